import { Module } from '@nestjs/common';
import { ConsoleAssets } from './console-assets.service';
import { ConsoleController } from './console.controller';

/** Serves the browser console (console/ folder) at /console. */
@Module({
  controllers: [ConsoleController],
  providers: [{ provide: ConsoleAssets, useFactory: () => new ConsoleAssets() }],
})
export class ConsoleModule {}
