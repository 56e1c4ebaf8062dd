import { type TestApp } from './test-app';
import { type HttpResponse } from './http';

/** Passes the default policy and the breached list. */
export const STRONG_PASSWORD = 'Tidal-Quill-Harbor-42!';

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}@example.com`;
}

export interface SignedIn {
  user: any;
  accessToken: string;
  refreshToken: string;
  /** "refresh_token=…", ready to send as a Cookie header. */
  cookie: string;
  email: string;
  password: string;
  teamId: string;
  userId: string;
}

function refreshFrom(res: HttpResponse): string {
  const header = res.cookies.refresh_token ?? '';
  return decodeURIComponent(header.split(';')[0]!.slice('refresh_token='.length));
}

function signedIn(res: HttpResponse, email: string, password: string): SignedIn {
  if (res.status !== 200 && res.status !== 201) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  const refreshToken = refreshFrom(res);
  return {
    user: res.body.data.user,
    accessToken: res.body.data.accessToken,
    refreshToken,
    cookie: `refresh_token=${refreshToken}`,
    email,
    password,
    teamId: res.body.data.user.teamId,
    userId: res.body.data.user.id,
  };
}

/** A new team and its admin, signed in. */
export async function registerTeam(
  t: TestApp,
  overrides: Partial<{ email: string; password: string; firstName: string; lastName: string; teamName: string }> = {},
  headers: Record<string, string> = {},
): Promise<SignedIn> {
  const body = {
    email: uniqueEmail('admin'),
    password: STRONG_PASSWORD,
    firstName: 'Ada',
    lastName: 'Admin',
    teamName: 'Team',
    ...overrides,
  };
  return signedIn(await t.http.post('/v1/auth/register', body, { headers }), body.email, body.password);
}

export function login(
  t: TestApp,
  email: string,
  password: string,
  extra: { otp?: string; headers?: Record<string, string> } = {},
) {
  return t.http.post(
    '/v1/auth/login',
    { email, password, ...(extra.otp ? { otp: extra.otp } : {}) },
    { headers: extra.headers },
  );
}

export async function loginOk(
  t: TestApp,
  email: string,
  password: string,
  extra: { otp?: string; headers?: Record<string, string> } = {},
): Promise<SignedIn> {
  return signedIn(await login(t, email, password, extra), email, password);
}
