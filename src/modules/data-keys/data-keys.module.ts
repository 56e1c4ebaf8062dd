import { Global, Module } from '@nestjs/common';
import { DataKeys } from './data-keys.service';

/**
 * The data key ring and its start-up check (owns data_key_state and data_verifier_keys). Global: every module
 * that keeps a secret at rest seals it here, and its check must run before any of them starts work.
 */
@Global()
@Module({
  providers: [DataKeys],
  exports: [DataKeys],
})
export class DataKeysModule {}
