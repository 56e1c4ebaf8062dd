import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/app-config';
import { databaseSsl } from './data-source-options';
import { databaseRoleProblems, type DatabaseRoleFacts } from './database-role';

const clean: DatabaseRoleFacts = {
  role: 'hearth_api',
  superuser: false,
  bypassRls: false,
  canBecomePrivileged: false,
  ownsTables: false,
};

describe('databaseRoleProblems', () => {
  it('a member of app_api only has none', () => {
    expect(databaseRoleProblems(clean)).toEqual([]);
  });

  it('names each way out of row-level security', () => {
    expect(databaseRoleProblems({ ...clean, superuser: true })).toEqual(['is a superuser']);
    expect(databaseRoleProblems({ ...clean, bypassRls: true })).toEqual(['has BYPASSRLS']);
    expect(databaseRoleProblems({ ...clean, canBecomePrivileged: true, ownsTables: true })).toEqual([
      'can SET ROLE to a superuser or BYPASSRLS role',
      'owns (or can act as the owner of) the tables',
    ]);
  });
});

describe('databaseSsl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssl-'));
  const ca = join(dir, 'ca.crt');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n');
  const config = (env: Record<string, string>) => loadConfig({ DATA_DIR: dir, ...env });

  it('disable: no TLS; require: TLS without verification', () => {
    expect(databaseSsl(config({}))).toBe(false);
    expect(databaseSsl(config({ DB_SSL_MODE: 'require' }))).toEqual({ rejectUnauthorized: false });
  });

  it("verify-full: verified against Node's CAs, or against DB_SSL_CA's contents", () => {
    expect(databaseSsl(config({ DB_SSL_MODE: 'verify-full' }))).toEqual({ rejectUnauthorized: true });
    expect(databaseSsl(config({ DB_SSL_MODE: 'verify-full', DB_SSL_CA: ca }))).toEqual({
      rejectUnauthorized: true,
      ca: '-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n',
    });
  });
});
