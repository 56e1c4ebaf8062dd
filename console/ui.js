// Small building blocks shared by the pages: fields with labels, alerts, errors in words, dates, copy/download.
import { html, useEffect, useRef, useState } from './vendor/htm-preact.js';
import { ApiError } from './api.js';

let idCounter = 0;
/** A stable unique id for label/input pairs. */
export function useId(prefix = 'f') {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++idCounter}`;
  return ref.current;
}

/** Friendlier words for the API's error codes; the server's own message where it already says it best. */
const MESSAGES = {
  NETWORK_ERROR: 'Cannot reach the server. Check your connection and try again.',
  INVALID_CREDENTIALS: 'The email or password is not correct.',
  INVALID_MFA_CODE:
    'That code is not valid. Use the current code from your authenticator app (or an unused backup code).',
  MFA_REQUIRED: 'Enter the code from your authenticator app.',
  UNAUTHENTICATED: 'Your session has ended. Please sign in again.',
  INVALID_REFRESH_TOKEN: 'Your session has ended. Please sign in again.',
  TOKEN_REUSE_DETECTED:
    'For your safety every session was signed out (a stale sign-in token was reused). Please sign in again.',
  REAUTH_REQUIRED: 'Please confirm your password to do this.',
  FORBIDDEN: 'You do not have permission to do this.',
  MFA_ENROLLMENT_REQUIRED: 'Turn on two-factor authentication (Security page) before doing this.',
  NOT_FOUND: 'That item no longer exists.',
  CONFLICT: null,
  ACCOUNT_LOCKED: null,
  IP_BLOCKED: 'Requests from your network address are blocked.',
  PAYLOAD_TOO_LARGE: 'That is too much data to send at once.',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable. Try again in a moment.',
};

export function describeError(error) {
  if (!(error instanceof ApiError)) return 'Something went wrong in the console. Reload the page and try again.';
  if (error.code === 'RATE_LIMIT' || error.code === 'AUTH_RATE_LIMIT') {
    const wait = error.retryAfter ? formatWait(error.retryAfter) : 'a little while';
    return `Too many attempts. Please wait ${wait} and try again.`;
  }
  if (error.code === 'VALIDATION_ERROR') return error.message.replace(/^Invalid input: /, 'Please check the form: ');
  return MESSAGES[error.code] || error.message || 'The request failed.';
}

export function formatWait(seconds) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** Per-field messages from a VALIDATION_ERROR's details: { field: [messages] }. */
export function fieldErrors(error) {
  const out = {};
  if (error instanceof ApiError && Array.isArray(error.details)) {
    for (const entry of error.details) if (entry && entry.field) out[entry.field] = [].concat(entry.errors || []);
  }
  return out;
}

/** An error box screen readers announce as soon as it appears. */
export function Alert({ error, children, kind = 'error' }) {
  if (!error && !children) return null;
  const text = children || describeError(error);
  if (kind === 'error') return html`<div class="alert alert-error" role="alert">${text}</div>`;
  return html`<div class=${`alert alert-${kind}`} role="status">${text}</div>`;
}

/** A labelled input; `hint` and `errors` are tied to it with aria-describedby. */
export function Field({ label, hint, errors, id: givenId, children, inputRef, ...input }) {
  const autoId = useId('field');
  const id = givenId || autoId;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = errors && errors.length ? `${id}-errors` : null;
  const describedBy = [input['aria-describedby'], hintId, errorId].filter(Boolean).join(' ') || undefined;
  const control =
    input.type === 'textarea'
      ? html`<textarea id=${id} ...${{ ...input, type: undefined }} aria-describedby=${describedBy} aria-invalid=${errorId ? 'true' : undefined}></textarea>`
      : input.type === 'select'
        ? html`<select id=${id} ...${{ ...input, type: undefined }} aria-describedby=${describedBy}>${children}</select>`
        : html`<input id=${id} ref=${inputRef} ...${input} aria-describedby=${describedBy} aria-invalid=${errorId ? 'true' : undefined} />`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
    ${control}
    ${errorId ? html`<ul class="field-errors" id=${errorId}>${errors.map((e) => html`<li>${e}</li>`)}</ul>` : null}
  </div>`;
}

/** A password input with a Show/Hide toggle. */
export function PasswordField({
  label,
  value,
  onInput,
  autocomplete = 'current-password',
  describedBy,
  errors,
  name,
  required = true,
}) {
  const [shown, setShown] = useState(false);
  const id = useId('pw');
  const errorId = errors && errors.length ? `${id}-errors` : null;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <div class="password-row">
      <input id=${id} name=${name} type=${shown ? 'text' : 'password'} value=${value} onInput=${onInput} autocomplete=${autocomplete}
        required=${required} maxlength="128" aria-describedby=${[describedBy, errorId].filter(Boolean).join(' ') || undefined}
        aria-invalid=${errorId ? 'true' : undefined} spellcheck="false" />
      <button type="button" class="button-quiet" aria-pressed=${shown ? 'true' : 'false'} aria-controls=${id} onClick=${() => setShown(!shown)}>
        ${shown ? 'Hide' : 'Show'}<span class="visually-hidden"> password</span>
      </button>
    </div>
    ${errorId ? html`<ul class="field-errors" id=${errorId}>${errors.map((e) => html`<li>${e}</li>`)}</ul>` : null}
  </div>`;
}

/** A submit button that says what it is doing while the request runs. */
export function Submit({ busy, children, busyText = 'Please wait…', kind = 'primary', ...rest }) {
  return html`<button type="submit" class=${`button button-${kind}`} disabled=${busy} aria-disabled=${busy ? 'true' : undefined} ...${rest}>
    ${busy ? busyText : children}
  </button>`;
}

/** Runs an async action with busy/error state for a form. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const mounted = useRef(true);
  useEffect(() => () => (mounted.current = false), []);
  async function run(action) {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (e) {
      if (mounted.current) setError(e);
      return undefined;
    } finally {
      if (mounted.current) setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

export function formatDate(value) {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** "3 minutes ago", "in 5 days". */
export function relativeTime(value, now = Date.now()) {
  if (!value) return '';
  const diff = new Date(value).getTime() - now;
  const units = [
    ['year', 31_536_000_000],
    ['month', 2_592_000_000],
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
  ];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, ms] of units) if (Math.abs(diff) >= ms) return rtf.format(Math.round(diff / ms), unit);
  return rtf.format(Math.round(diff / 1000), 'second');
}

export function Time({ value }) {
  if (!value) return html`<span>—</span>`;
  return html`<time datetime=${value} title=${relativeTime(value)}>${formatDate(value)}</time>`;
}

/** Copy to the clipboard, with a fallback for browsers that refuse the async API. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

/** Save text as a file through a Blob URL (no server round trip, nothing written anywhere else). */
export function downloadText(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.className = 'offscreen';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A Copy button that reports "Copied" politely to screen readers. */
export function CopyButton({ text, label = 'Copy', testid }) {
  const [state, setState] = useState('');
  async function onClick() {
    setState((await copyText(text)) ? 'Copied to the clipboard' : 'Copy failed: select the text and copy it by hand');
    setTimeout(() => setState(''), 4000);
  }
  return html`<span class="copy">
    <button type="button" class="button button-secondary" onClick=${onClick} data-testid=${testid}>${label}</button>
    <span class="copy-status" role="status">${state}</span>
  </span>`;
}

/** A page heading that takes focus when the page opens, so keyboard and screen reader users land on it. */
export function PageTitle({ children, sub }) {
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current && document.activeElement === document.body) ref.current.focus();
  }, []);
  return html`<header class="page-head">
    <h1 tabindex="-1" ref=${ref} id="page-title">${children}</h1>
    ${sub ? html`<p class="lead">${sub}</p>` : null}
  </header>`;
}

export function shortId(id) {
  return id ? String(id).slice(0, 8) : '—';
}

/** Load data on mount (and when deps change): { data, meta, error, loading, reload }. */
export function useLoad(loader, deps = []) {
  const [state, setState] = useState({ data: null, meta: null, error: null, loading: true });
  const version = useRef(0);
  async function load() {
    const mine = ++version.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const result = await loader();
      if (mine === version.current)
        setState({ data: result.data, meta: result.meta || null, error: null, loading: false });
    } catch (error) {
      if (mine === version.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }
  useEffect(() => {
    load();
  }, deps);
  return { ...state, reload: load };
}
