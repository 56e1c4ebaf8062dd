import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Trim } from '../../../common/http/string-transforms';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';

/*
 * Field decorators for CRM DTOs: OpenAPI docs and validation in one line per field. Optional fields accept
 * null, which clears the field on PATCH; required fields refuse null (the service checks PATCH bodies too).
 */

export const RequiredText = (max: number, description?: string) =>
  applyDecorators(
    ApiProperty({ type: String, maxLength: max, description }),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(max),
  );

export const OptionalText = (max: number, description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: String, maxLength: max, nullable: true, description }),
    IsOptional(),
    Trim(),
    IsString(),
    MaxLength(max),
  );

/** Free text kept as typed (no trimming). */
export const OptionalNotes = (max = 10_000) =>
  applyDecorators(
    ApiPropertyOptional({ type: String, maxLength: max, nullable: true }),
    IsOptional(),
    IsString(),
    MaxLength(max),
  );

export const OptionalEmail = () =>
  applyDecorators(
    ApiPropertyOptional({ type: String, format: 'email', maxLength: 254, nullable: true }),
    IsOptional(),
    Trim(),
    IsString(),
    MaxLength(254),
    IsEmail(),
  );

export const OptionalPhone = () =>
  applyDecorators(
    ApiPropertyOptional({ type: String, maxLength: 40, nullable: true, example: '+1 (555) 010-2030' }),
    IsOptional(),
    Trim(),
    IsString(),
    Matches(/^[0-9+()\-.\s]{3,40}$/, {
      message: 'phone may contain digits, spaces and + ( ) - . only (3 to 40 characters)',
    }),
  );

export const OptionalEnum = (values: readonly string[], description?: string) =>
  applyDecorators(ApiPropertyOptional({ enum: values, nullable: true, description }), IsOptional(), IsIn(values));

export const OptionalReference = (noun: string) =>
  applyDecorators(
    ApiPropertyOptional({
      type: String,
      format: 'uuid',
      nullable: true,
      description: `A ${noun} of your team (404 otherwise)`,
    }),
    IsOptional(),
    IsUUID(),
  );

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/;
const dateTimeRules = [
  IsString(),
  Matches(DATE_TIME, { message: '$property must be an ISO-8601 date-time with a time zone' }),
  IsISO8601({ strict: true }),
];

export const RequiredDateTime = (description?: string) =>
  applyDecorators(ApiProperty({ type: String, format: 'date-time', description }), ...dateTimeRules);

export const OptionalDateTime = (description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description }),
    IsOptional(),
    ...dateTimeRules,
  );

export const OptionalDate = (description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: String, format: 'date', nullable: true, example: '2025-03-31', description }),
    IsOptional(),
    IsString(),
    Matches(/^\d{4}-\d{2}-\d{2}$/, { message: '$property must be a date (YYYY-MM-DD)' }),
    IsISO8601({ strict: true }),
  );

export const OptionalInt = (min: number, max: number) =>
  applyDecorators(
    ApiPropertyOptional({ type: Number, minimum: min, maximum: max, nullable: true }),
    IsOptional(),
    IsInt(),
    Min(min),
    Max(max),
  );

export const OptionalDecimal = (min: number, max: number, maxDecimalPlaces: number) =>
  applyDecorators(
    ApiPropertyOptional({
      type: Number,
      minimum: min,
      maximum: max,
      nullable: true,
      description: `Up to ${maxDecimalPlaces} decimal place(s)`,
    }),
    IsOptional(),
    IsNumber({ maxDecimalPlaces, allowNaN: false, allowInfinity: false }),
    Min(min),
    Max(max),
  );

const MONEY = /^\d{1,12}(\.\d{1,2})?$/;

/** Money: a number or a decimal string with at most 2 decimals, 0 to 999,999,999,999.99. Returned as a string. */
export const OptionalMoney = (description = 'Money in the team currency') =>
  applyDecorators(
    ApiPropertyOptional({
      // OpenAPI 3.0: `nullable` needs a `type` beside it, so null is allowed by the string branch (and only there).
      oneOf: [
        { type: 'string', nullable: true, pattern: MONEY.source, example: '450000.00' },
        { type: 'number', minimum: 0, maximum: 999_999_999_999.99, example: 450000 },
      ],
      description: `${description}. Send a number or a decimal string (at most 2 decimals); always returned as a decimal string, exactly.`,
    }),
    IsOptional(),
    ValidateBy({
      name: 'isMoney',
      validator: {
        validate: (value: unknown) =>
          (typeof value === 'number' && Number.isFinite(value) && MONEY.test(String(value))) ||
          (typeof value === 'string' && MONEY.test(value)),
        defaultMessage: () => '$property must be an amount from 0 to 999999999999.99 with at most 2 decimals',
      },
    }),
  );

/* Query-string filters (always strings on the wire). */

export const QueryEnum = (values: readonly string[], description?: string) =>
  applyDecorators(ApiPropertyOptional({ enum: values, description }), IsOptional(), IsIn(values));

export const QueryUuid = (description?: string) =>
  applyDecorators(ApiPropertyOptional({ type: String, format: 'uuid', description }), IsOptional(), IsUUID());

export const QueryText = (max: number, description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: String, maxLength: max, description }),
    IsOptional(),
    IsString(),
    IsNotEmpty(),
    MaxLength(max),
  );

export const QueryDateTime = (description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: String, format: 'date-time', description }),
    IsOptional(),
    IsISO8601({ strict: true }),
  );

export const QueryNumber = (min: number, max: number, description?: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: Number, minimum: min, maximum: max, description }),
    IsOptional(),
    Type(() => Number),
    IsNumber({ allowNaN: false, allowInfinity: false }),
    Min(min),
    Max(max),
  );

/** A record's assignee: a user of your team (default the creating user; null when an API key creates). */
export const OptionalAssignee = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: String,
      format: 'uuid',
      nullable: true,
      description:
        'The user responsible for it: an enabled user of your team (404 otherwise), or null. Defaults to the creating user (null when an API key creates).',
    }),
    IsOptional(),
    IsUUID(),
  );

/** The `assignedTo` list filter: `me`, `none` or a user id. */
export const ASSIGNEE_FILTER =
  /^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
export const QueryAssignee = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: String,
      description:
        '`me` (your records; not for API keys), `none` (unassigned) or a user id. Under agentVisibility `assigned`, agents and viewers only ever see their own records anyway.',
      example: 'me',
    }),
    IsOptional(),
    IsString(),
    Matches(ASSIGNEE_FILTER, { message: 'assignedTo must be me, none or a user id (UUID)' }),
  );
