import { spawnSync } from 'node:child_process';
import { authenticator } from 'otplib';
import { type TestApp } from './test-app';

/** The TOTP code of a step relative to now (0 = current, 1 = next: accepted now within the ±1 window). */
export function codeAt(secret: string, stepOffset = 0): string {
  return authenticator.clone({ epoch: Date.now() + stepOffset * 30_000 }).generate(secret);
}

const TOTP_STEP_MS = 30_000;

/**
 * TOTP codes whose time steps only go up: the API refuses a step at or before the last one it accepted for the
 * user (`lastUsedStep`), and accepts ±1 step. Starting one step back gives up to three codes without waiting for
 * the clock, unless the previous step is about to leave the window; waits only when no acceptable step is left.
 */
export function totpSource(secret: string, lastUsedStep = -Infinity): () => Promise<string> {
  let lastStep = lastUsedStep;
  return async (): Promise<string> => {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / TOTP_STEP_MS);
      const earliest = (current + 1) * TOTP_STEP_MS - now > 5_000 ? current - 1 : current;
      const step = Math.max(lastStep + 1, earliest);
      if (step <= current + 1) {
        lastStep = step;
        return authenticator.clone({ epoch: step * TOTP_STEP_MS + 1_000 }).generate(secret);
      }
      await new Promise((r) => setTimeout(r, (current + 1) * TOTP_STEP_MS - Date.now() + 100));
    }
  };
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
