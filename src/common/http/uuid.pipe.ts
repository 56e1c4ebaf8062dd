import { Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from './app.exception';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Route ids are UUIDs; anything else is a 400 before any query runs. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID_PATTERN.test(value))
      throw AppException.validation('id must be a UUID', [{ field: 'id', errors: ['id must be a UUID'] }]);
    return value.toLowerCase();
  }
}
