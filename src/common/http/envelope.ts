/** A page of a list: the envelope puts items in `data` and the rest in `meta`. */
export class Page<T> {
  constructor(
    readonly items: T[],
    readonly meta: { limit: number; nextCursor?: string | null; total?: number },
  ) {}
}

export interface SuccessEnvelope<T> {
  success: true;
  data: T;
  meta?: Page<unknown>['meta'];
}

export interface ErrorEnvelope {
  success: false;
  error: { code: string; message: string; details?: unknown };
}
