import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { API_KEY_STRATEGY } from '../../common/security/authentication.guard';
import { AuditModule } from '../audit/audit.module';
import { ApiKeyExpiryJob } from './api-key-expiry.job';
import { ApiKeyStrategy } from './api-key.strategy';
import { ApiKeyUsage } from './api-key-usage.service';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { ApiKey } from './entities/api-key.entity';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), AuditModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysService,
    ApiKeyUsage,
    ApiKeyExpiryJob,
    ApiKeyStrategy,
    { provide: API_KEY_STRATEGY, useExisting: ApiKeyStrategy },
  ],
  exports: [API_KEY_STRATEGY, ApiKeysService],
})
export class ApiKeysModule {}
