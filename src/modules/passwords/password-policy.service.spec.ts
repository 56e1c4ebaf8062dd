import { loadConfig } from '../../config/app-config';
import { PasswordPolicy } from './password-policy.service';

const policy = new PasswordPolicy(
  loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: 'ab'.repeat(32) }),
);

describe('PasswordPolicy', () => {
  it('ships a real breached-password list of more than 10,000 entries', () => {
    expect(PasswordPolicy.commonPasswordCount()).toBeGreaterThan(10_000);
  });

  it('accepts a strong password', () => {
    expect(policy.violations('Tidal-Marmot-Quill-42')).toEqual([]);
  });

  it('lists every rule broken', () => {
    expect(policy.violations('shrt')).toEqual([
      'Password must be at least 12 characters',
      'Password must contain at least one uppercase letter',
      'Password must contain at least one number',
      'Password must contain at least one special character',
    ]);
    expect(policy.violations('A1!' + 'a'.repeat(130))).toContain('Password must be at most 128 characters');
  });

  it.each(['Password123!', 'P@ssword12345', 'Qwertyuiop1!', 'Iloveyou2024!!', 'Football#1234'])(
    'refuses the decorated common password %s',
    (pw) => {
      expect(policy.violations(pw)).toContain('This password is too common or appears in breach lists; choose another');
    },
  );

  it('refuses a password containing the email name', () => {
    expect(policy.violations('Jane.Doe-Secure-77', { email: 'jane.doe@example.com' })).toContain(
      'Password must not contain your email address',
    );
  });

  it('throws VALIDATION_ERROR with details per rule', () => {
    expect(() => policy.assertAcceptable('short')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });
});
