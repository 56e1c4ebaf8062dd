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
}

export class DeletedResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: true }) deleted: true;
}
