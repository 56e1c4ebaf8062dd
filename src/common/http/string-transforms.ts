import { Transform } from 'class-transformer';

/** Trims a string body field before validation; other values pass through for the validators to refuse. */
export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Trims and lower-cases (emails), so lookups and unique constraints see one spelling. */
export const TrimLowercase = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));
