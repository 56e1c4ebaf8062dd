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

/** A call with the access token; on 401 (expired access token) refreshes once and retries once. */
async function authed(method, path, body, query) {
  try {
    return await send(method, path, { body, query, token: accessToken });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || error.code !== 'UNAUTHENTICATED' || !accessToken)
      throw error;
    if (!(await refresh())) throw error;
    return send(method, path, { body, query, token: accessToken });
  }
}

// Step-up: the console's password dialog, registered by the signed-in shell. It resolves true once POST
// /auth/reauth gave us a fresh access token, false when the user cancels.
let reauthPrompt = null;
let stepUpInFlight = null;
// Counts successful step-ups, so that a request refused before a step-up that finished meanwhile is simply retried.
let reauthCount = 0;

/** Registers the step-up dialog; returns the function that unregisters it. */
export function setReauthPrompt(prompt) {
  reauthPrompt = prompt;
  return () => {
    if (reauthPrompt === prompt) reauthPrompt = null;
  };
}

/** One dialog at a time: requests refused together wait for the same answer. */
function stepUp(error) {
  if (!stepUpInFlight) {
    stepUpInFlight = Promise.resolve()
      .then(() => reauthPrompt({ user: currentUser, error }))
      .then(Boolean, () => false)
      .finally(() => (stepUpInFlight = null));
  }
  return stepUpInFlight;
}

/**
 * An authenticated call. An expired access token is renewed through the refresh cookie; a 401 REAUTH_REQUIRED
 * (a sensitive action and the last password entry too old) asks for the password in the step-up dialog and
 * retries the request once. The guard refuses before the handler runs, so the retry never does the work twice.
 * Cancelling the dialog makes the call fail with the original REAUTH_REQUIRED error.
 */
export async function api(method, path, body, query) {
  const before = reauthCount;
  try {
    return await authed(method, path, body, query);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'REAUTH_REQUIRED' || !accessToken) throw error;
    if (reauthCount === before) {
      if (!reauthPrompt || !(await stepUp(error))) throw error;
    }
    return authed(method, path, body, query);
  }
}

/** POST /auth/reauth: the password (and a 2FA code) again; the answer is an access token whose auth_time is now. */
export async function reauth(password, otp) {
  const body = { password };
  if (otp) body.otp = otp;
  const { data } = await authed('POST', '/auth/reauth', body);
  accessToken = data.accessToken;
  scheduleRefresh(data.expiresIn);
  reauthCount++;
  return true;
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
