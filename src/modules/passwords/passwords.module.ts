import { Global, Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy.service';

/** Hashing and policy, shared by sign-up, password change and reset, and user administration. */
@Global()
@Module({ providers: [PasswordHasher, PasswordPolicy], exports: [PasswordHasher, PasswordPolicy] })
export class PasswordsModule {}
