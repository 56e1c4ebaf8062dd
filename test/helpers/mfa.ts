import { spawnSync } from 'node:child_process';
import { authenticator } from 'otplib';
import { type TestApp } from './test-app';

/** The TOTP code of a step relative to now (0 = current, 1 = next: accepted now within the ±1 window). */
export function codeAt(secret: string, stepOffset = 0): string {
  return authenticator.clone({ epoch: Date.now() + stepOffset * 30_000 }).generate(secret);
}

export function oathtoolAvailable(): boolean {
  return spawnSync('oathtool', ['--version']).status === 0;
}

/** A code from Debian's oathtool: an implementation independent of ours. */
export function oathtoolCode(secret: string, stepOffset = 0): string {
  const args = ['--totp', '-b', ...(stepOffset ? ['-N', `now + ${stepOffset * 30} seconds`] : []), secret];
  const res = spawnSync('oathtool', args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`oathtool failed: ${res.stderr}`);
  return res.stdout.trim();
}

export interface Enrolled {
  secret: string;
  backupCodes: string[];
}

/** Turns 2FA on for the signed-in user (setup + enable with the current code). */
export async function enrolMfa(t: TestApp, accessToken: string): Promise<Enrolled> {
  const setup = await t.http.post('/v1/auth/2fa/setup', undefined, { token: accessToken });
  if (setup.status !== 200) throw new Error(`2fa setup failed: ${setup.status} ${setup.text}`);
  const enable = await t.http.post(
    '/v1/auth/2fa/enable',
    { code: codeAt(setup.body.data.secret) },
    { token: accessToken },
  );
  if (enable.status !== 200) throw new Error(`2fa enable failed: ${enable.status} ${enable.text}`);
  return { secret: setup.body.data.secret, backupCodes: enable.body.data.backupCodes };
}
