import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUDIT_ACTIONS, AUDIT_LANES, AUDIT_RESOURCE_TYPES } from '../audit-chain';

/** One audit entry as GET /v1/audit-log returns it. */
export class AuditLogEntryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    description: `Which of the team's hash chains holds the entry (0–${AUDIT_LANES - 1}; concurrent writers use several, a lone writer lane 0)`,
  })
  lane: number;
  @ApiProperty({ description: "Position in its lane's hash chain (1, 2, 3, …, no gaps)" }) seq: number;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: string;
  @ApiProperty({ type: 'string', enum: AUDIT_RESOURCE_TYPES as string[] }) resourceType: string;
  @ApiProperty({ format: 'uuid', nullable: true }) resourceId: string | null;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'CREATE: null. UPDATE: the previous values of the fields the request changed. DELETE: the whole record.',
  })
  oldValues: Record<string, unknown> | null;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'CREATE: the whole record. UPDATE: the new values of the fields the request changed. DELETE: null.',
  })
  newValues: Record<string, unknown> | null;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The user who made the change (null for API keys)' })
  userId: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The API key that made the change' }) apiKeyId:
    string | null;
  @ApiProperty({ nullable: true }) ip: string | null;
  @ApiProperty({ nullable: true }) userAgent: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'sha256(previous hash in the lane || canonical JSON of this entry), hex' }) hash: string;
}
