/**
 * The second factor, as the login and re-auth flows see it. MfaModule provides the implementation; the auth
 * module depends only on this abstraction, so neither imports the other.
 */
export abstract class MfaVerifier {
  /**
   * True when `code` is a TOTP code valid now (±1 step) that this user has not used before, or one of the
   * user's unused backup codes (consumed by this call). False otherwise; never throws for a wrong code.
   */
  abstract verifyLoginCode(userId: string, code: string): Promise<boolean>;
}
