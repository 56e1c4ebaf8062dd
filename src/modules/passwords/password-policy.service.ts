import { Inject, Injectable } from '@nestjs/common';
import { dictionary } from '@zxcvbn-ts/language-common';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../../common/http/app.exception';

/** 49k passwords seen most often in breaches (shipped by @zxcvbn-ts/language-common). */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

export const SPECIAL_CHARACTERS = /[^A-Za-z0-9]/;

/**
 * The configured policy (length, character classes) plus a breached-list check that also catches the
 * usual decorations of a common password ("Password123!" is "password" with a suffix).
 */
@Injectable()
export class PasswordPolicy {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  static commonPasswordCount(): number {
    return COMMON_PASSWORDS.size;
  }

  isCommon(password: string): boolean {
    const lower = password.toLowerCase();
    const unleet = (s: string) =>
      s.replace(/[@4]/g, 'a').replace(/3/g, 'e').replace(/[$5]/g, 's').replace(/0/g, 'o').replace(/[!1|]/g, 'i');
    // The usual decoration is a suffix of digits and symbols: look at the word without it too.
    const withoutSuffix = lower.replace(/[^a-z]+$/, '');
    const candidates = new Set<string>();
    for (const form of [lower, unleet(lower), withoutSuffix, unleet(withoutSuffix)]) {
      const alnum = form.replace(/[^a-z0-9]/g, '');
      candidates
        .add(form)
        .add(alnum)
        .add(alnum.replace(/\d+$/, ''))
        .add(form.replace(/[^a-z]/g, ''));
    }
    return [...candidates].some((candidate) => candidate.length >= 4 && COMMON_PASSWORDS.has(candidate));
  }

  /** Every rule the password breaks, as human sentences (empty when it passes). */
  violations(password: string, context: { email?: string; firstName?: string; lastName?: string } = {}): string[] {
    const p = this.config.passwordPolicy;
    const errors: string[] = [];
    if (typeof password !== 'string') return ['Password must be a string'];
    if (password.length < p.minLength) errors.push(`Password must be at least ${p.minLength} characters`);
    if (password.length > p.maxLength) errors.push(`Password must be at most ${p.maxLength} characters`);
    if (p.requireUppercase && !/[A-Z]/.test(password))
      errors.push('Password must contain at least one uppercase letter');
    if (p.requireLowercase && !/[a-z]/.test(password))
      errors.push('Password must contain at least one lowercase letter');
    if (p.requireNumber && !/\d/.test(password)) errors.push('Password must contain at least one number');
    if (p.requireSpecial && !SPECIAL_CHARACTERS.test(password))
      errors.push('Password must contain at least one special character');
    if (this.isCommon(password)) errors.push('This password is too common or appears in breach lists; choose another');
    const local = context.email?.split('@')[0]?.toLowerCase();
    if (local && local.length >= 4 && password.toLowerCase().includes(local))
      errors.push('Password must not contain your email address');
    return errors;
  }

  /** Throws 400 VALIDATION_ERROR listing each broken rule under `details`. */
  assertAcceptable(password: string, context: { email?: string; field?: string } = {}): void {
    const errors = this.violations(password, context);
    if (errors.length) {
      throw AppException.validation(errors.join('; '), [{ field: context.field ?? 'password', errors }]);
    }
  }
}
