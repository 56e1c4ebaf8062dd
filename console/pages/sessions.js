// Where the user is signed in: every live session, revoke one, or sign out everywhere.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api, logoutAll, signOutLocally } from '../api.js';
import { Alert, PageTitle, Time, describeError, useAction, useLoad } from '../ui.js';

/** "Chrome 126 on macOS 14" from whatever shape the API gives (a string, or browser/os parts). */
export function describeDevice(device, userAgent) {
  if (!device) return userAgent ? String(userAgent).slice(0, 80) : 'Unknown device';
  if (typeof device === 'string') return device;
  const part = (p) =>
    p && typeof p === 'object'
      ? [p.name, p.version && String(p.version).split('.')[0]].filter(Boolean).join(' ')
      : p || '';
  const browser = part(device.browser);
  const os = part(device.os);
  const kind = device.type || (device.device && device.device.type) || '';
  const text = [browser, os && `on ${os}`].filter(Boolean).join(' ');
  return (text || device.label || device.name || 'Unknown device') + (kind && kind !== 'desktop' ? ` (${kind})` : '');
}

function SessionRow({ session, onRevoked }) {
  const { busy, error, run } = useAction();
  async function revoke() {
    await run(async () => {
      await api('DELETE', `/auth/sessions/${session.id}`);
      if (session.current) signOutLocally('signed-out');
      else onRevoked();
    });
  }
  return html`<li class=${session.current ? 'session session-current' : 'session'} data-testid="session">
    <div class="session-main">
      <p class="session-device">
        <strong>${describeDevice(session.device, session.userAgent)}</strong>
        ${session.current ? html` <span class="badge badge-ok" data-testid="this-device">This device</span>` : null}
      </p>
      <dl class="meta">
        <div><dt>IP address</dt><dd>${session.ip || session.ipAddress || '—'}</dd></div>
        <div><dt>Signed in</dt><dd><${Time} value=${session.createdAt} /></dd></div>
        <div><dt>Last used</dt><dd><${Time} value=${session.lastUsedAt} /></dd></div>
      </dl>
      ${error ? html`<p class="field-errors" role="alert">${describeError(error)}</p>` : null}
    </div>
    <div>
      <button type="button" class="button button-secondary" onClick=${revoke} disabled=${busy}>
        ${busy ? 'Revoking…' : session.current ? 'Sign out here' : 'Revoke'}<span class="visually-hidden"> session ${describeDevice(session.device)} ${session.ip || ''}</span>
      </button>
    </div>
  </li>`;
}

export function SessionsPage() {
  const sessions = useLoad(() => api('GET', '/auth/sessions'));
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef(null);
  const askRef = useRef(null);
  const firstRender = useRef(true);
  // Keep keyboard focus on the control that replaced the one just pressed.
  useEffect(() => {
    if (firstRender.current) return void (firstRender.current = false);
    (confirming ? confirmRef : askRef).current?.focus();
  }, [confirming]);
  const all = useAction();
  const list = sessions.data || [];

  return html`<div class="stack-lg">
    <${PageTitle} sub="Everywhere your account is signed in right now. Revoke anything you do not recognise.">Sessions<//>
    <${Alert} error=${sessions.error} />
    ${sessions.loading && !sessions.data ? html`<p class="muted" role="status">Loading sessions…</p>` : null}
    ${
      sessions.data
        ? html`<p class="muted" role="status" data-testid="session-count">${list.length} active session${list.length === 1 ? '' : 's'}</p>
          <ul class="sessions">${list.map((s) => html`<${SessionRow} key=${s.id} session=${s} onRevoked=${sessions.reload} />`)}</ul>`
        : null
    }
    <section class="card stack" aria-labelledby="logout-all-title">
      <h2 id="logout-all-title">Sign out everywhere</h2>
      <p class="muted">Ends every session of your account, including this one. Use it if you lost a device or think someone else signed in.</p>
      <${Alert} error=${all.error} />
      ${
        confirming
          ? html`<div class="row" role="group" aria-label="Confirm sign out everywhere">
            <span>Sign out of all ${list.length || ''} sessions?</span>
            <button type="button" class="button button-danger" ref=${confirmRef} onClick=${() => all.run(logoutAll)} disabled=${all.busy} data-testid="confirm-logout-all">
              ${all.busy ? 'Signing out…' : 'Yes, log out all devices'}
            </button>
            <button type="button" class="button button-secondary" onClick=${() => setConfirming(false)}>Cancel</button>
          </div>`
          : html`<div><button type="button" class="button button-danger" ref=${askRef} onClick=${() => setConfirming(true)} data-testid="logout-all">Logout all devices</button></div>`
      }
    </section>
  </div>`;
}
