import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JWT_STRATEGY } from '../../common/security/authentication.guard';
import { AuthController } from './auth.controller';
import { AccountNotices } from './account-notices.service';
import { AuthService } from './auth.service';
import { JwtStrategy } from './jwt.strategy';
import { LockoutService } from './lockout.service';
import { KnownDevice } from './entities/known-device.entity';
import { PasswordHistory } from './entities/password-history.entity';
import { PasswordResetToken } from './entities/password-reset-token.entity';
import { Session } from './entities/session.entity';
import { UsedRefreshToken } from './entities/used-refresh-token.entity';
import { SessionsService } from './sessions.service';
import { TokenRefreshService } from './token-refresh.service';
import { TokenService } from './token.service';
import { UsersModule } from '../users/users.module';

@Module({
  imports: [
    UsersModule,
    TypeOrmModule.forFeature([Session, UsedRefreshToken, PasswordHistory, PasswordResetToken, KnownDevice]),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    AccountNotices,
    LockoutService,
    SessionsService,
    TokenService,
    TokenRefreshService,
    JwtStrategy,
    { provide: JWT_STRATEGY, useExisting: JwtStrategy },
  ],
  exports: [SessionsService, TokenService, LockoutService, AccountNotices, JWT_STRATEGY],
})
export class AuthModule {}
