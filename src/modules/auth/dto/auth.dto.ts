import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength, MinLength } from 'class-validator';
import { Trim } from '../../../common/http/string-transforms';

/** Email as typed, trimmed; uniqueness and lookups ignore case (citext). */
export class EmailField {
  @ApiProperty({ example: 'jane@realty.example', maxLength: 254 })
  @Trim()
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;
}

export class RegisterDto extends EmailField {
  @ApiProperty({
    description: 'Checked against the password policy (length, character classes, breached list)',
    minLength: 8,
    maxLength: 128,
  })
  @IsString()
  @MaxLength(128)
  password: string;

  @ApiProperty({ maxLength: 100 })
  @Trim()
  @IsString()
  @Length(1, 100)
  firstName: string;

  @ApiProperty({ maxLength: 100 })
  @Trim()
  @IsString()
  @Length(1, 100)
  lastName: string;

  @ApiProperty({ maxLength: 200, example: 'Sunset Realty' })
  @Trim()
  @IsString()
  @Length(1, 200)
  teamName: string;
}

export class OtpField {
  @ApiPropertyOptional({
    description: '6-digit TOTP code or a backup code; required when 2FA is enabled',
    example: '123456',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9-]{6,20}$/, { message: 'otp must be a 6-digit code or a backup code' })
  otp?: string;
}

export class LoginDto extends OtpField {
  @ApiProperty({ example: 'jane@realty.example' })
  @Trim()
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;
}

export class RefreshDto {
  @ApiPropertyOptional({ description: 'For non-browser clients; browsers send the refresh_token cookie instead' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  refreshToken?: string;
}

export class ReauthDto extends OtpField {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  currentPassword: string;

  @ApiProperty({ description: 'Checked against the password policy and the last 3 passwords' })
  @IsString()
  @MaxLength(128)
  newPassword: string;
}

export class ForgotPasswordDto extends EmailField {}

export class ResetPasswordDto {
  @ApiProperty({ description: 'The token from the reset link' })
  @IsString()
  @Length(20, 200)
  token: string;

  @ApiProperty({ description: 'Checked against the password policy and the last 3 passwords' })
  @IsString()
  @MaxLength(128)
  password: string;
}
