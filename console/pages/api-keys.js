// API keys of the team (admins with 2FA): create with scopes, expiry and an IP allow-list; list; revoke.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api } from '../api.js';
import { loadClientConfig } from '../password.js';
import { crmResources, useClientConfig } from '../config.js';
import {
  Alert,
  CopyButton,
  Field,
  PageTitle,
  Submit,
  Time,
  describeError,
  fieldErrors,
  useAction,
  useLoad,
} from '../ui.js';

export const ACTIONS = ['read', 'write', 'delete'];
const DAY = 86_400_000;

/** 'expired' | 'soon' | 'ok' | 'never' for a key's expiry. */
export function expiryState(expiresAt, warningDays, now = Date.now()) {
  if (!expiresAt) return 'never';
  const left = new Date(expiresAt).getTime() - now;
  if (left <= 0) return 'expired';
  if (left <= warningDays * DAY) return 'soon';
  return 'ok';
}

function ScopeGrid({ scopes, onChange }) {
  // The resources a key can be scoped to: the server's CRM resources (config.json).
  const resources = crmResources(useClientConfig()).map((r) => r.resource);
  const readAll = scopes.includes('*:read');
  const toggle = (scope) => onChange(scopes.includes(scope) ? scopes.filter((s) => s !== scope) : [...scopes, scope]);
  return html`<fieldset class="scopes">
    <legend>Scopes <span class="muted">(what the key may do)</span></legend>
    <label class="check check-wide">
      <input type="checkbox" checked=${readAll} onChange=${() => toggle('*:read')} data-scope="*:read" />
      <span><strong>Read everything</strong> <code>*:read</code></span>
    </label>
    <div class="table-wrap">
      <table class="scope-grid">
        <caption class="visually-hidden">Scopes by resource and action</caption>
        <thead><tr><th scope="col">Resource</th>${ACTIONS.map((a) => html`<th scope="col">${a}</th>`)}</tr></thead>
        <tbody>
          ${resources.map(
            (r) => html`<tr>
              <th scope="row">${r}</th>
              ${ACTIONS.map((a) => {
                const scope = `${r}:${a}`;
                const implied = a === 'read' && readAll;
                return html`<td>
                  <label class="check">
                    <input type="checkbox" checked=${scopes.includes(scope) || implied} disabled=${implied} onChange=${() => toggle(scope)} data-scope=${scope} />
                    <span class="visually-hidden">${scope}${implied ? ' (included in *:read)' : ''}</span>
                  </label>
                </td>`;
              })}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </fieldset>`;
}

function CreatedKey({ created, onDone }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<section class="card stack created-key" aria-labelledby="created-key-title" data-testid="created-key">
    <h2 id="created-key-title" tabindex="-1" ref=${ref}>Your new API key</h2>
    <${Alert} kind="warning">Copy the key now. It is shown only once; Hearth CRM keeps just a fingerprint of it.<//>
    <code class="secret secret-key" data-testid="api-key-secret">${created.key}</code>
    <div class="row">
      <${CopyButton} text=${created.key} label="Copy key" testid="copy-api-key" />
      <button type="button" class="button button-primary" onClick=${onDone}>Done</button>
    </div>
    <p class="muted">Send it as the <code>X-API-Key</code> header. Scopes: ${created.scopes.join(', ')}. Expires <${Time} value=${created.expiresAt} />.</p>
  </section>`;
}

function CreateKeyForm({ settings, onCreated }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState(['*:read']);
  const [expiryMode, setExpiryMode] = useState('days');
  const [days, setDays] = useState(String(settings.defaultExpiryDays));
  const [date, setDate] = useState('');
  const [ips, setIps] = useState('');
  const [otp, setOtp] = useState('');
  const [localError, setLocalError] = useState('');
  const { busy, error, run } = useAction();
  const errors = fieldErrors(error);
  const today = new Date().toISOString().slice(0, 10);
  const maxDate = new Date(Date.now() + settings.maxExpiryDays * DAY).toISOString().slice(0, 10);

  async function submit(event) {
    event.preventDefault();
    setLocalError('');
    if (!scopes.length) return setLocalError('Pick at least one scope.');
    const body = { name: name.trim(), scopes, otp: otp.replace(/\s+/g, '') };
    if (expiryMode === 'days') body.expiresInDays = Number(days);
    // The chosen day, to its end in the user's time zone.
    else body.expiresAt = new Date(`${date}T23:59:59`).toISOString();
    const allowed = ips
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (allowed.length) body.allowedIps = allowed;
    await run(async () => {
      const { data } = await api('POST', '/api-keys', body);
      onCreated(data);
    });
  }

  return html`<form onSubmit=${submit} class="card stack" aria-labelledby="create-key-title" data-testid="create-key-form">
    <h2 id="create-key-title">Create an API key</h2>
    <${Alert} error=${error} />
    ${localError ? html`<${Alert} kind="error">${localError}<//>` : null}
    <${Field} label="Name" hint="Say what uses it, e.g. “Website lead form”." required maxlength="100" value=${name} onInput=${(e) => setName(e.currentTarget.value)} errors=${errors.name} />
    <${ScopeGrid} scopes=${scopes} onChange=${setScopes} />
    <fieldset class="stack-sm">
      <legend>Expiry</legend>
      <div class="row">
        <label class="check"><input type="radio" name="expiry" value="days" checked=${expiryMode === 'days'} onChange=${() => setExpiryMode('days')} /> <span>After a number of days</span></label>
        <label class="check"><input type="radio" name="expiry" value="date" checked=${expiryMode === 'date'} onChange=${() => setExpiryMode('date')} /> <span>On a date</span></label>
      </div>
      ${
        expiryMode === 'days'
          ? html`<${Field} label="Days until it expires" type="number" min="1" max=${settings.maxExpiryDays} step="1" required value=${days} onInput=${(e) => setDays(e.currentTarget.value)}
            hint=${`1 to ${settings.maxExpiryDays}; ${settings.defaultExpiryDays} by default.`} errors=${errors.expiresInDays} />`
          : html`<${Field} label="Expiry date" type="date" min=${today} max=${maxDate} required value=${date} onInput=${(e) => setDate(e.currentTarget.value)} errors=${errors.expiresAt} />`
      }
    </fieldset>
    <${Field} label="Allowed IP addresses (optional)" type="textarea" rows="3" value=${ips} onInput=${(e) => setIps(e.currentTarget.value)}
      hint="One IP address or CIDR range per line, e.g. 203.0.113.7 or 198.51.100.0/24. Leave empty to allow any address." spellcheck="false" errors=${errors.allowedIps} />
    <${Field} label="Your current 2FA code" hint="Creating a key needs a fresh code from your authenticator app." required autocomplete="one-time-code"
      inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7" value=${otp} onInput=${(e) => setOtp(e.currentTarget.value)} errors=${errors.otp} />
    <div><${Submit} busy=${busy} busyText="Creating…">Create key<//></div>
  </form>`;
}

function KeyRow({ apiKey, warningDays, onRevoked }) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();
  const confirmRef = useRef(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  const state = expiryState(apiKey.expiresAt, warningDays);
  async function revoke() {
    await run(async () => {
      await api('DELETE', `/api-keys/${apiKey.id}`);
      onRevoked();
    });
  }
  return html`<tr data-testid="api-key-row">
    <th scope="row">${apiKey.name}</th>
    <td><code>${apiKey.prefix}</code></td>
    <td><ul class="chips">${(apiKey.scopes || []).map((s) => html`<li><code>${s}</code></li>`)}</ul></td>
    <td>${apiKey.lastUsedAt ? html`<${Time} value=${apiKey.lastUsedAt} />` : html`<span class="muted">Never</span>`}</td>
    <td>
      <${Time} value=${apiKey.expiresAt} />
      ${state === 'expired' ? html` <span class="badge badge-danger">Expired</span>` : null}
      ${state === 'soon' ? html` <span class="badge badge-warn">Expires soon</span>` : null}
    </td>
    <td class="actions">
      ${
        confirming
          ? html`<div class="row" role="group" aria-label=${`Confirm revoking ${apiKey.name}`}>
            <button type="button" class="button button-danger" ref=${confirmRef} onClick=${revoke} disabled=${busy}>${busy ? 'Revoking…' : 'Revoke now'}</button>
            <button type="button" class="button button-secondary" onClick=${() => setConfirming(false)}>Cancel</button>
          </div>`
          : html`<button type="button" class="button button-secondary" onClick=${() => setConfirming(true)}>Revoke<span class="visually-hidden"> ${apiKey.name}</span></button>`
      }
      ${error ? html`<p class="field-errors" role="alert">${describeError(error)}</p>` : null}
    </td>
  </tr>`;
}

export function ApiKeysPage({ user }) {
  const [settings, setSettings] = useState({ defaultExpiryDays: 90, maxExpiryDays: 365, expiryWarningDays: 7 });
  const [created, setCreated] = useState(null);
  useEffect(() => {
    loadClientConfig().then((c) => c.apiKeys && setSettings(c.apiKeys));
  }, []);
  const keys = useLoad(() => api('GET', '/api-keys'));
  const list = (keys.data || []).filter((k) => !k.revokedAt);

  if (!user.mfaEnabled) {
    return html`<div class="stack-lg">
      <${PageTitle}>API keys<//>
      <${Alert} kind="warning">Managing API keys needs two-factor authentication on your account. <a href="#/security">Turn it on in Security settings</a>.<//>
    </div>`;
  }
  return html`<div class="stack-lg">
    <${PageTitle} sub="Keys let other systems use the CRM API for your team. They cannot reach sign-in, users or API key settings.">API keys<//>
    ${
      created
        ? html`<${CreatedKey} created=${created} onDone=${() => setCreated(null)} />`
        : html`<${CreateKeyForm} settings=${settings} onCreated=${(data) => {
            setCreated(data);
            keys.reload();
          }} />`
    }
    <section class="card stack" aria-labelledby="keys-title">
      <h2 id="keys-title">Active keys</h2>
      <${Alert} error=${keys.error} />
      ${keys.loading && !keys.data ? html`<p class="muted" role="status">Loading keys…</p>` : null}
      ${keys.data && !list.length ? html`<p class="muted">No API keys yet.</p>` : null}
      ${
        list.length
          ? html`<div class="table-wrap"><table class="data" data-testid="api-keys-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${list.map((k) => html`<${KeyRow} key=${k.id} apiKey=${k} warningDays=${settings.expiryWarningDays} onRevoked=${keys.reload} />`)}</tbody>
          </table></div>`
          : null
      }
    </section>
  </div>`;
}
