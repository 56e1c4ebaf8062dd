// The API client of the console: JSON envelope in and out, the access token in memory only, silent refresh
// through the httpOnly refresh_token cookie (which page JavaScript can never read).

const API = '/v1';
// Refresh this long before the access token expires (or at 80 % of a very short lifetime).
const REFRESH_LEAD_SECONDS = 60;
// A non-secret hint that this browser signed in, so that visitors without a session do not start every page
// load with a refresh that is bound to fail. It holds "1", never a token.
const SESSION_HINT = 'hearth.console.hasSession';

let accessToken = null;
let currentUser = null;
let refreshTimer = null;
let refreshInFlight = null;
const listeners = new Set();
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('hearth-console') : null;

/** An error answer of the API, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export function currentSession() {
  return { user: currentUser, signedIn: Boolean(accessToken) };
}

/** Subscribe to sign-in / sign-out / user changes; returns the unsubscribe function. */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(reason) {
  for (const listener of listeners) listener({ user: currentUser, signedIn: Boolean(accessToken), reason });
}

function setHint(on) {
  try {
    if (on) localStorage.setItem(SESSION_HINT, '1');
    else localStorage.removeItem(SESSION_HINT);
  } catch {
    // Storage disabled: we simply try a refresh on every load.
  }
}

function hasHint() {
  try {
    return localStorage.getItem(SESSION_HINT) === '1';
  } catch {
    return true;
  }
}

async function send(method, path, { body, query, token } = {}) {
  let url = API + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined && value !== null && value !== '') params.set(key, value);
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'Cannot reach the server. Check your connection and try again.');
  }
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (!response.ok || (payload && payload.success === false)) {
    const error = (payload && payload.error) || {};
    const retryAfter = Number(response.headers.get('Retry-After')) || undefined;
    throw new ApiError(
      response.status,
      error.code || `HTTP_${response.status}`,
      error.message || response.statusText || 'Request failed',
      error.details,
      retryAfter,
    );
  }
  return payload ? { data: payload.data, meta: payload.meta } : { data: null };
}

function scheduleRefresh(expiresIn) {
  clearTimeout(refreshTimer);
  const seconds = Number(expiresIn) || 900;
  const lead = Math.min(REFRESH_LEAD_SECONDS, seconds * 0.2);
  refreshTimer = setTimeout(
    () => {
      refresh().catch(() => undefined);
    },
    Math.max(1, seconds - lead) * 1000,
  );
}

/** Adopt the answer of login / register / refresh / reauth: token in memory, next refresh scheduled. */
async function adopt(data, reason) {
  accessToken = data.accessToken;
  scheduleRefresh(data.expiresIn);
  setHint(true);
  currentUser = data.user || (await send('GET', '/auth/me', { token: accessToken })).data;
  notify(reason);
  return currentUser;
}

/** Forget the session in this tab (and tell the other tabs of this browser). */
export function signOutLocally(reason = 'signed-out', broadcast = true) {
  clearTimeout(refreshTimer);
  accessToken = null;
  currentUser = null;
  setHint(false);
  if (broadcast && channel) channel.postMessage({ type: 'signed-out' });
  notify(reason);
}

if (channel) {
  channel.onmessage = (event) => {
    if (event.data && event.data.type === 'signed-out' && accessToken) signOutLocally('signed-out-elsewhere', false);
  };
}

async function doRefresh() {
  try {
    const { data } = await send('POST', '/auth/refresh', { body: {} });
    await adopt(data, 'refreshed');
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOutLocally(error.code === 'TOKEN_REUSE_DETECTED' ? 'token-reuse' : 'expired');
      return false;
    }
    throw error;
  }
}

/** One refresh at a time: concurrent callers share it. Resolves true when a fresh access token is in memory. */
export function refresh() {
  if (!refreshInFlight) refreshInFlight = doRefresh().finally(() => (refreshInFlight = null));
  return refreshInFlight;
}

/** On page load: restore the session from the refresh cookie, if this browser has signed in before. */
export async function restoreSession() {
  if (!hasHint()) return false;
  try {
    return await refresh();
  } catch {
    return false;
  }
}

/** An authenticated call; on 401 (expired access token) refreshes once and retries once. */
export async function api(method, path, body, query) {
  try {
    return await send(method, path, { body, query, token: accessToken });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || error.code !== 'UNAUTHENTICATED' || !accessToken)
      throw error;
    if (!(await refresh())) throw error;
    return send(method, path, { body, query, token: accessToken });
  }
}

export async function login(email, password, otp) {
  const body = { email, password };
  if (otp) body.otp = otp;
  const { data } = await send('POST', '/auth/login', { body });
  return adopt(data, 'signed-in');
}

export async function register(fields) {
  const { data } = await send('POST', '/auth/register', { body: fields });
  return adopt(data, 'signed-in');
}

export async function logout() {
  try {
    await send('POST', '/auth/logout', { body: {}, token: accessToken });
  } finally {
    signOutLocally('signed-out');
  }
}

export async function logoutAll() {
  await api('POST', '/auth/logout-all', {});
  signOutLocally('signed-out-everywhere');
}

/** Re-read the caller (after enabling 2FA, say). */
export async function reloadUser() {
  const { data } = await api('GET', '/auth/me');
  currentUser = data;
  notify('user-updated');
  return data;
}

/** Public, unauthenticated calls (forgot / reset password). */
export function publicCall(method, path, body) {
  return send(method, path, { body });
}
