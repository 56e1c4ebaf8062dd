import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { Trim } from '../../../common/http/string-transforms';
import { AGENT_VISIBILITIES, type AgentVisibility } from '../entities/team.entity';

const VISIBILITY_DOC =
  "`team`: everyone in the team sees every record. `assigned`: agents and viewers see, list, export, change and delete only records assigned to them (others are 404 to them); admins and API keys see everything. Enforced by the database's row-level security.";

export class TeamResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ maxLength: 200 }) name: string;
  @ApiProperty({ enum: AGENT_VISIBILITIES, description: VISIBILITY_DOC }) agentVisibility: AgentVisibility;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class UpdateTeamDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ enum: AGENT_VISIBILITIES, description: VISIBILITY_DOC })
  @IsOptional()
  @IsIn(AGENT_VISIBILITIES)
  agentVisibility?: AgentVisibility;
}
