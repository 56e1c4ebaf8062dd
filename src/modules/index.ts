import { Type } from '@nestjs/common';

/** Feature modules mounted by AppModule; each issue's module is added here. */
export const FEATURE_MODULES: Type<unknown>[] = [];
