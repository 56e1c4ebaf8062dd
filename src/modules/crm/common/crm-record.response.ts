import { ApiProperty } from '@nestjs/swagger';

/** The bookkeeping fields of every CRM record in responses. */
export class CrmRecordResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The user who created it (null when an API key did)' })
  createdBy: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The API key that created it' }) createdByApiKey:
    string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The user responsible for it (a user of your team)' })
  assignedTo: string | null;
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    readOnly: true,
    description:
      'Optimistic concurrency: 1 on create, +1 per change (update, delete, restore). GET /:id sends it as `ETag: "<version>"`; send it back in `If-Match` on PATCH or DELETE to change only that version (412 PRECONDITION_FAILED otherwise).',
  })
  version: number;
}

/** A record in the trash list. */
export class TrashedRecordResponse {
  @ApiProperty({ format: 'date-time', description: 'When it was moved to the trash' }) deletedAt: string;
}

export class DeletedResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: true }) deleted: true;
}
