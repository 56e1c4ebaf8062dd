import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MfaVerifier } from '../../common/security/mfa-verifier';
import { AuthModule } from '../auth/auth.module';
import { UsersModule } from '../users/users.module';
import { BackupCodeVoidNotices } from './backup-code-void-notices';
import { MfaBackupCode } from './entities/mfa-backup-code.entity';
import { UserMfa } from './entities/user-mfa.entity';
import { MfaController } from './mfa.controller';
import { MfaService } from './mfa.service';

/** Global so the auth flow's optional MfaVerifier finds it without the two modules importing each other. */
@Global()
@Module({
  imports: [AuthModule, UsersModule, TypeOrmModule.forFeature([UserMfa, MfaBackupCode])],
  controllers: [MfaController],
  providers: [MfaService, { provide: MfaVerifier, useExisting: MfaService }, BackupCodeVoidNotices],
  exports: [MfaService, MfaVerifier],
})
export class MfaModule {}
