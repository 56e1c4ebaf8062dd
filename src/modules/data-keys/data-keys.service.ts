import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../../common/http/app.exception';
import { KeyedVerifier } from '../../common/security/keyed-verifier';
import { SealedValueError, type SecretBox } from '../../common/security/secret-box';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { queryRows } from '../../database/query-rows';
import {
  type DataKeyRing,
  type InTransaction,
  type Sql,
  dataKeyRing,
  ensureKeyState,
  recordedChecks,
  ringProblem,
  sealedVerifierKey,
  verifierAad,
} from './key-state';
import { type SealedLocation, describeLocation } from './sealed-columns';

/**
 * The data key ring of this instance (DATA_ENCRYPTION_KEY, DATA_ENCRYPTION_KEY_PREVIOUS): seals and opens
 * secrets at rest, holds the HMAC keys of keyed hashes, and checks at start-up that its keys are the ones
 * the database's sealed values use (refusing to start otherwise: see key-state.ts and docs/data-keys.md).
 */
@Injectable()
export class DataKeys implements OnModuleInit {
  private readonly logger = new Logger('DataKeys');
  private readonly ring: DataKeyRing;
  private checked = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ring = dataKeyRing(config.dataEncryptionKey, config.dataEncryptionKeysPrevious);
  }

  private readonly sql: Sql = (sql, params) => queryRows(this.dataSource.manager, sql, params);

  private readonly transaction: InTransaction = (work) =>
    this.dataSource.transaction((m) => work((sql, params) => queryRows(m, sql, params)));

  /** Before the app serves anything: refuses (DataKeyMismatchError) when the keys do not fit the database. */
  async onModuleInit(): Promise<void> {
    const outcome = await ensureKeyState(this.transaction, this.ring);
    if (outcome.change === 'recorded') this.logger.log('data key check recorded (first start on this database)');
    if (outcome.change === 'rotation-started')
      this.logger.warn(
        'data key rotation started: new values are sealed under the new DATA_ENCRYPTION_KEY; run `npm run keys:rotate` once every instance has it',
      );
    if (outcome.checks.length > 1 && outcome.change !== 'rotation-started')
      this.logger.warn(
        `data key rotation in progress (${outcome.checks.length} keys in use): run \`npm run keys:rotate\` to finish it`,
      );
    this.checked = true;
  }

  /** Null when this instance may serve; else why not (the database's key state moved on without it). */
  async readinessProblem(): Promise<string | null> {
    if (!this.checked) return 'the data key check has not run';
    const problem = ringProblem(await recordedChecks(this.sql), this.ring.box, false);
    if (problem) this.logger.error(`not ready: DATA_ENCRYPTION_KEY: ${problem}`);
    return problem;
  }

  seal(plaintext: string, associatedData: string): string {
    return this.ring.box.seal(plaintext, associatedData);
  }

  /**
   * Opens a sealed value. One that no configured key opens is logged with its table and row, and this request
   * fails with 500 DATA_KEY_MISMATCH: never a wrong answer, never a silent one.
   */
  open(sealed: string, associatedData: string, where: SealedLocation): string {
    try {
      return this.ring.box.open(sealed, associatedData);
    } catch (err) {
      if (!(err instanceof SealedValueError)) throw err;
      this.logger.error(
        `sealed value ${describeLocation(where)} cannot be opened (${err.reason}): ${err.message}. ` +
          'Check DATA_ENCRYPTION_KEY and DATA_ENCRYPTION_KEY_PREVIOUS on this instance (docs/data-keys.md)',
      );
      throw new AppException(
        'DATA_KEY_MISMATCH',
        'A stored secret cannot be read with the server’s data keys; the operator has been told',
      );
    }
  }

  /**
   * The keyed-hash verifier of a purpose, under its stored HMAC key (stable across data key rotations). Read
   * at each use (backup codes are rare): a key renewed by `keys:rotate --renew-verifier-keys` takes effect on
   * every instance at once.
   */
  async verifier(purpose: string): Promise<KeyedVerifier> {
    const sealed = await sealedVerifierKey(this.sql, this.ring.box, purpose);
    const where = { table: 'data_verifier_keys', column: 'key_sealed', row: purpose };
    return new KeyedVerifier(Buffer.from(this.open(sealed, verifierAad(purpose), where), 'base64'));
  }

  /** The box itself, for code that seals and opens outside a request (tests, the rotation). */
  get box(): SecretBox {
    return this.ring.box;
  }
}
