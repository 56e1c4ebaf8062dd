import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { API_KEY_SCOPES } from '../../../common/security/principal';
import { MAX_API_KEY_LIFETIME_DAYS } from '../../../config/app-config';
import { Trim } from '../../../common/http/string-transforms';

export class CreateApiKeyDto {
  @ApiProperty({ maxLength: 100, example: 'Zapier sync' })
  @Trim()
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiProperty({
    type: 'array',
    // The live list of the CRM catalogue's resources × actions (given as items: OpenAPI must not guess at load).
    items: { type: 'string', enum: API_KEY_SCOPES as string[] },
    example: ['clients:read', 'leads:write'],
    description: '<resource>:<action>; resource: a CRM resource or *, action read|write|delete|* (the enum lists them)',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @IsIn(API_KEY_SCOPES as string[], {
    each: true,
    message: 'each scope must be <resource>:<action>, e.g. clients:read or *:read',
  })
  scopes: string[];

  @ApiProperty({ description: 'A current 2FA code (or backup code) of the creating admin', example: '123456' })
  @IsString()
  @Matches(/^[A-Za-z0-9-]{6,20}$/, { message: 'otp must be a 6-digit code or a backup code' })
  otp: string;

  @ApiPropertyOptional({ description: 'ISO-8601; at most 365 days ahead. Alternative to expiresInDays.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_API_KEY_LIFETIME_DAYS,
    description: 'Default API_KEY_DEFAULT_EXPIRY_DAYS (90)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_API_KEY_LIFETIME_DAYS)
  expiresInDays?: number;

  @ApiPropertyOptional({
    type: [String],
    example: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'],
    description: 'IPv4/IPv6 addresses or CIDRs; empty = any',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(2, 64, { each: true })
  allowedIps?: string[];
}
