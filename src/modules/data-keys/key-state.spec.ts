import { randomBytes } from 'node:crypto';
import { SecretBox, keyCheck } from '../../common/security/secret-box';
import { ringProblem } from './key-state';

describe('ringProblem (which instances may start and stay ready)', () => {
  const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const [A, B] = [keyCheck(a), keyCheck(b)];

  it('accepts the recorded key, and a new current key when the recorded ones are previous (a rotation)', () => {
    expect(ringProblem([A], new SecretBox(a), false)).toBeNull();
    expect(ringProblem([A], new SecretBox(b, [a]), true)).toBeNull();
    expect(ringProblem([A, B], new SecretBox(b, [a]), false)).toBeNull();
    expect(ringProblem([A, B], new SecretBox(a, [b]), false)).toBeNull();
  });

  it('refuses another key, and a ring missing a key still in use', () => {
    expect(ringProblem([A], new SecretBox(b), true)).toMatch(/sealed with another key/);
    expect(ringProblem([A], new SecretBox(b, [c]), true)).toMatch(/sealed with another key/);
    expect(ringProblem([A, B], new SecretBox(a), true)).toMatch(/keys this instance does not have/);
    expect(ringProblem([A, B], new SecretBox(b), true)).toMatch(new RegExp(A.slice(0, 8)));
  });

  it('after a rotation finished, an instance still sealing with the old key is not ready', () => {
    expect(ringProblem([B], new SecretBox(a, [b]), false)).toMatch(/no longer accepts/);
    expect(ringProblem([B], new SecretBox(b, [a]), false)).toBeNull();
  });

  it('never puts key material in its messages', () => {
    const text = [ringProblem([A], new SecretBox(b), true), ringProblem([B], new SecretBox(a, [b]), false)].join();
    for (const key of [a, b]) {
      expect(text).not.toContain(key.toString('hex'));
      expect(text).not.toContain(key.toString('base64'));
    }
  });
});
