// Step-up: when the API answers 401 REAUTH_REQUIRED, this dialog asks for the password (and a 2FA code),
// calls POST /v1/auth/reauth, and lets api.js retry the refused request once. Mounted once by the signed-in shell.
import { html, useEffect, useRef, useState } from './vendor/htm-preact.js';
import { ApiError, reauth, setReauthPrompt } from './api.js';
import { Alert, Field, PasswordField, describeError } from './ui.js';

/** What the dialog says about a failed confirmation. */
export function reauthMessage(error) {
  if (!(error instanceof ApiError)) return describeError(error);
  switch (error.code) {
    case 'INVALID_CREDENTIALS':
      return 'That password is not correct. Try again.';
    case 'MFA_REQUIRED':
      return 'Enter the code from your authenticator app too.';
    case 'INVALID_MFA_CODE':
      return 'That code is not valid. Use the current code from your authenticator app (or an unused backup code).';
    case 'ACCOUNT_LOCKED':
      return `Your account is locked after too many wrong attempts (${error.message}). Cancel, and try again later or ask an administrator to unlock it.`;
    default:
      return describeError(error);
  }
}

export function ReauthDialog() {
  // { resolve, needsCode } while a request waits for the user; null otherwise.
  const [request, setRequest] = useState(null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const dialogRef = useRef(null);
  const pending = useRef(null);

  useEffect(() => {
    const off = setReauthPrompt(
      ({ user }) =>
        new Promise((resolve) => {
          pending.current = resolve;
          setPassword('');
          setCode('');
          setError(null);
          setRequest({ needsCode: Boolean(user && user.mfaEnabled) });
        }),
    );
    return () => {
      off();
      // Signed out while the dialog was open: the waiting request fails with its REAUTH_REQUIRED.
      pending.current?.(false);
      pending.current = null;
    };
  }, []);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (request && !dialog.open) {
      dialog.showModal();
      dialog.querySelector('input')?.focus();
    } else if (!request && dialog.open) dialog.close();
  }, [request]);

  function finish(ok) {
    const resolve = pending.current;
    pending.current = null;
    setRequest(null);
    setPassword('');
    setCode('');
    setError(null);
    resolve?.(ok);
  }

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await reauth(password, request.needsCode ? code.replace(/\s+/g, '') : undefined);
      finish(true);
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.code === 'MFA_REQUIRED') setRequest({ ...request, needsCode: true });
      // Typing the password again is the likely next step (a wrong code keeps the password).
      if (e instanceof ApiError && e.code === 'INVALID_CREDENTIALS') setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return html`<dialog ref=${dialogRef} class="modal" aria-labelledby="reauth-title" aria-describedby="reauth-desc" data-testid="reauth-dialog"
    onCancel=${(e) => {
      // Escape: the same as Cancel (the dialog closes through our state, not by itself).
      e.preventDefault();
      if (!busy) finish(false);
    }}>
    ${
      request
        ? html`<form class="stack" onSubmit=${submit} data-testid="reauth-form">
          <h2 id="reauth-title">Confirm it’s you</h2>
          <p id="reauth-desc" class="muted">This is a sensitive action, so it needs your password${request.needsCode ? ' and a code from your authenticator app' : ''} again.</p>
          ${error ? html`<${Alert} kind="error">${reauthMessage(error)}<//>` : null}
          <${PasswordField} label="Your password" name="reauth-password" value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} autocomplete="current-password" />
          ${
            request.needsCode
              ? html`<${Field} label="Code from your authenticator app" name="reauth-otp" value=${code} onInput=${(e) => setCode(e.currentTarget.value)} required
                autocomplete="one-time-code" inputmode="numeric" maxlength="32" spellcheck="false" autocapitalize="off" hint="Or one of your unused backup codes." />`
              : null
          }
          <div class="row modal-actions">
            <button type="button" class="button button-secondary" onClick=${() => finish(false)} disabled=${busy}>Cancel</button>
            <button type="submit" class="button button-primary" disabled=${busy} data-testid="reauth-confirm">${busy ? 'Checking…' : 'Confirm'}</button>
          </div>
        </form>`
        : null
    }
  </dialog>`;
}
