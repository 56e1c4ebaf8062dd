import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsUUID, ValidateIf } from 'class-validator';

export class ReassignRecordsDto {
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'An enabled user of your team (404 otherwise), or null to leave the records unassigned',
  })
  @IsDefined({ message: 'toUserId is required (a user id, or null)' })
  @ValidateIf((_o, value) => value !== null)
  @IsUUID()
  toUserId: string | null;
}

export class ReassignedResponse {
  @ApiProperty({ description: 'How many records (and open tasks) changed hands', example: 12 }) moved: number;
}

export class RemoveUserQuery {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      "An enabled user of your team who takes over the removed user's records and open tasks (404 otherwise). Without it they end unassigned. Either way in the same transaction as the removal, each with an audit row.",
  })
  @IsOptional()
  @IsUUID()
  reassignTo?: string;
}
