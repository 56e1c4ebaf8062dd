import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findUnreachableFolder } from './embedded-postgres';

describe('findUnreachableFolder', () => {
  // A uid/gid that owns nothing here, like the postgres user on a fresh machine.
  const stranger = { uid: 54_321, gid: 54_321 };

  it('names the first folder the server user cannot enter', () => {
    const root = mkdtempSync(join(tmpdir(), 'reach-'));
    chmodSync(root, 0o755);
    const locked = join(root, 'home');
    const data = join(locked, 'project', '.data');
    mkdirSync(data, { recursive: true });
    chmodSync(locked, 0o700);
    expect(findUnreachableFolder([data], stranger)).toBe(locked);
    chmodSync(locked, 0o711);
    expect(findUnreachableFolder([data], stranger)).toBeUndefined();
  });

  it('accepts folders the user owns even without access for others', () => {
    const root = mkdtempSync(join(tmpdir(), 'reach-'));
    chmodSync(root, 0o755);
    const mine = join(root, 'mine');
    mkdirSync(mine);
    chmodSync(mine, 0o700);
    const self = { uid: process.getuid!(), gid: process.getgid!() };
    expect(findUnreachableFolder([mine], self)).toBeUndefined();
  });
});
