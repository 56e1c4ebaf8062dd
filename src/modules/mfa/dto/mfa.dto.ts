import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class EnableMfaDto {
  @ApiProperty({ description: 'A current 6-digit code from the authenticator app', example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code: string;
}

export class ConfirmMfaDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;

  @ApiProperty({ description: 'A current 6-digit code, or one of your backup codes', example: '123456' })
  @IsString()
  @Matches(/^[A-Za-z0-9-]{6,20}$/, { message: 'code must be a 6-digit code or a backup code' })
  code: string;
}
