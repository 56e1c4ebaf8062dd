import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { Trim } from '../../../common/http/string-transforms';
import { DELIVERY_STATUSES, WEBHOOK_SUBSCRIPTIONS } from '../entities/webhook.entity';

const URL_DESCRIPTION =
  'Where events are POSTed. `https://` in production; no credentials in the URL; only a port of WEBHOOK_ALLOWED_PORTS (default 80, 443, 8080, 8443). A host that resolves to a loopback, private (RFC 1918, ULA), link-local, carrier-grade NAT, metadata, multicast or reserved address is refused (400) unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true, and is checked again at every delivery.';
const EVENTS_DESCRIPTION =
  'Event types: exact names (`<type>.created|updated|deleted|restored` for each CRM record type, the extra events of a type such as `lead.converted`, and `webhook.test`; the enum lists them all), `<type>.*` (e.g. `client.*`) or `*`. Anything else is 400.';
/** The live list of subscriptions (from the CRM catalogue): given as items, so OpenAPI does not guess their type at load. */
const EVENTS_ITEMS = { type: 'string', enum: WEBHOOK_SUBSCRIPTIONS as string[] };

export class CreateWebhookDto {
  @ApiProperty({
    maxLength: 2048,
    format: 'uri',
    description: URL_DESCRIPTION,
    example: 'https://example.com/hooks/crm',
  })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  url: string;

  @ApiProperty({ type: 'array', items: EVENTS_ITEMS, description: EVENTS_DESCRIPTION, example: ['client.*'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @IsIn(WEBHOOK_SUBSCRIPTIONS as string[], {
    each: true,
    message: 'each value in events must be a known event type, <type>.* or *',
  })
  events: string[];

  @ApiPropertyOptional({ maxLength: 500, nullable: true })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(500)
  description?: string | null;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: 2048, format: 'uri', description: URL_DESCRIPTION })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ type: 'array', items: EVENTS_ITEMS, description: EVENTS_DESCRIPTION })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @IsIn(WEBHOOK_SUBSCRIPTIONS as string[], {
    each: true,
    message: 'each value in events must be a known event type, <type>.* or *',
  })
  events?: string[];

  @ApiPropertyOptional({
    description: 'false stops deliveries (pending ones wait); true resumes them and resets the failure count',
  })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ maxLength: 500, nullable: true })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(500)
  description?: string | null;
}

export class WebhookResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ type: [String] }) events: string[];
  @ApiProperty({ description: 'false: no deliveries (deactivated by an admin, or after 24 h of failures)' })
  active: boolean;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'Start of the current run of failed attempts (null after a success); 24 h of it deactivates the hook',
  })
  failingSince: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) deactivatedAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class CreatedWebhookResponse extends WebhookResponse {
  @ApiProperty({
    description:
      'Signing secret `whsec_<base64>`, shown this once (null in an Idempotency-Key replay): verify each delivery with a Standard Webhooks library (`new Webhook(secret).verify(body, headers)`)',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    type: String,
    nullable: true,
  })
  secret: string | null;
}

export class WebhookDeletedResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: [true] }) deleted: true;
}

export class DeliveryResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The event id, sent as `webhook-id` (the same on every attempt)' })
  eventId: string;
  @ApiProperty({ example: 'client.created' }) eventType: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number, description: "The receiver's last HTTP status (null: no answer)" })
  lastStatusCode: number | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Why the last attempt failed, with up to 1 KiB of the answer; null after a success',
  })
  lastError: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastAttemptAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'null once succeeded or failed' })
  nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}
