import { CallHandler, ExecutionContext, Injectable, NestInterceptor, StreamableFile } from '@nestjs/common';
import { Observable, map } from 'rxjs';
import { Page } from './envelope';

/** Wraps every handler result in the contract's success envelope (streams pass through untouched). */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((result: unknown) => {
        if (result instanceof StreamableFile) return result;
        if (result instanceof Page) return { success: true, data: result.items, meta: result.meta };
        return { success: true, data: result ?? null };
      }),
    );
  }
}
