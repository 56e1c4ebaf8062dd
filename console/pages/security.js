// The signed-in user's own security: two-factor authentication (enrol, backup codes, disable) and password.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api, refresh, reloadUser } from '../api.js';
import { PasswordChecklist, usePolicy } from '../password.js';
import {
  Alert,
  CopyButton,
  Field,
  PageTitle,
  PasswordField,
  Submit,
  downloadText,
  fieldErrors,
  useAction,
} from '../ui.js';

function CodeField({ label = 'Code from your authenticator app', value, onInput, name = 'code' }) {
  return html`<${Field} label=${label} name=${name} value=${value} onInput=${onInput} required autocomplete="one-time-code"
    inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7" spellcheck="false" />`;
}

const clean = (code) => code.replace(/\s+/g, '');

/** The ten one-time codes, shown once, with Copy and Download. */
export function BackupCodes({ codes, onDone }) {
  const text = `Hearth CRM backup codes (each works once)\nCreated ${new Date().toISOString()}\n\n${codes.join('\n')}\n`;
  const doneRef = useRef(null);
  return html`<section class="card stack" aria-labelledby="backup-title" data-testid="backup-codes-panel">
    <h2 id="backup-title">Save your backup codes</h2>
    <${Alert} kind="warning">These codes are shown only now. Keep them somewhere safe: each one signs you in once if you lose your phone.<//>
    <ol class="backup-codes" data-testid="backup-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
    <div class="row">
      <${CopyButton} text=${codes.join('\n')} label="Copy codes" testid="copy-backup-codes" />
      <button type="button" class="button button-secondary" onClick=${() => downloadText('hearth-crm-backup-codes.txt', text)} data-testid="download-backup-codes">Download .txt</button>
      <button type="button" class="button button-primary" ref=${doneRef} onClick=${onDone}>I have saved them</button>
    </div>
  </section>`;
}

function EnableTwoFactor({ onEnabled }) {
  const [setup, setSetup] = useState(null);
  const [code, setCode] = useState('');
  const start = useAction();
  const confirm = useAction();

  async function begin() {
    await start.run(async () => setSetup((await api('POST', '/auth/2fa/setup', {})).data));
  }

  async function submit(event) {
    event.preventDefault();
    await confirm.run(async () => {
      const { data } = await api('POST', '/auth/2fa/enable', { code: clean(code) });
      onEnabled(data.backupCodes);
    });
  }

  useEffect(() => {
    if (setup) document.getElementById('mfa-step-scan')?.focus();
  }, [setup]);

  if (!setup) {
    return html`<div class="stack">
      <p>Two-factor authentication is <strong>off</strong>. Turn it on so that a stolen password is not enough to sign in as you.
        Administrators need it to manage API keys and other team settings.</p>
      <${Alert} error=${start.error} />
      <div><button type="button" class="button button-primary" onClick=${begin} disabled=${start.busy} data-testid="mfa-start">${start.busy ? 'Preparing…' : 'Set up two-factor authentication'}</button></div>
    </div>`;
  }
  return html`<div class="stack" data-testid="mfa-setup">
    <ol class="steps">
      <li>
        <h3 id="mfa-step-scan" tabindex="-1">Scan the QR code</h3>
        <p>Use an authenticator app (1Password, Google Authenticator, Authy, Microsoft Authenticator…).</p>
        <div class="qr-row">
          <img class="qr" src=${setup.qrCode} width="200" height="200" alt="QR code to add Hearth CRM to your authenticator app" data-testid="mfa-qr" />
          <div class="stack-sm">
            <p id="mfa-secret-label">Can't scan it? Enter this key by hand:</p>
            <code class="secret" data-testid="mfa-secret" aria-labelledby="mfa-secret-label">${setup.secret}</code>
            <${CopyButton} text=${setup.secret} label="Copy key" />
          </div>
        </div>
      </li>
      <li>
        <h3>Enter the code it shows</h3>
        <form onSubmit=${submit} class="stack" data-testid="mfa-enable-form">
          <${Alert} error=${confirm.error} />
          <${CodeField} value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />
          <div class="row">
            <${Submit} busy=${confirm.busy} busyText="Checking…">Turn on two-factor authentication<//>
            <button type="button" class="button button-secondary" onClick=${() => setSetup(null)}>Cancel</button>
          </div>
        </form>
      </li>
    </ol>
  </div>`;
}

/** Password + current code: used by "regenerate backup codes" and "turn off". */
function PasswordAndCodeForm({ title, description, action, submitLabel, danger, onSubmit, testid }) {
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const { busy, error, run } = useAction();
  async function submit(event) {
    event.preventDefault();
    await run(async () => {
      await onSubmit({ password, code: clean(code) });
      setPassword('');
      setCode('');
    });
  }
  return html`<form onSubmit=${submit} class="stack subcard" data-testid=${testid} aria-label=${title}>
    <h3>${title}</h3>
    <p class="muted">${description}</p>
    <${Alert} error=${error} />
    <div class="grid-2">
      <${PasswordField} label="Your password" value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
      <${CodeField} value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />
    </div>
    <div><${Submit} busy=${busy} kind=${danger ? 'danger' : 'secondary'} busyText=${action}>${submitLabel}<//></div>
  </form>`;
}

function TwoFactorSection({ user }) {
  const [codes, setCodes] = useState(null);
  const [message, setMessage] = useState('');

  async function enabled(backupCodes) {
    setCodes(backupCodes);
    // A fresh access token carries the new 2FA state to every check that reads it from the token.
    await refresh().catch(() => undefined);
    await reloadUser().catch(() => undefined);
  }

  if (codes) {
    return html`<${BackupCodes} codes=${codes} onDone=${() => {
      setCodes(null);
      setMessage('Two-factor authentication is on. Keep your backup codes safe.');
    }} />`;
  }
  if (!user.mfaEnabled) return html`<${EnableTwoFactor} onEnabled=${enabled} />`;
  return html`<div class="stack">
    ${message ? html`<${Alert} kind="success">${message}<//>` : null}
    <p><span class="badge badge-ok">On</span> Two-factor authentication is on. Signing in needs a code from your authenticator app (or a backup code).</p>
    <${PasswordAndCodeForm} title="New backup codes" testid="regenerate-codes-form"
      description="Creates ten new backup codes; the old ones stop working."
      action="Creating…" submitLabel="Create new backup codes"
      onSubmit=${async (body) => setCodes((await api('POST', '/auth/2fa/backup-codes', body)).data.backupCodes)} />
    <${PasswordAndCodeForm} title="Turn off two-factor authentication" testid="disable-mfa-form" danger
      description="Your account will be protected by your password alone. Administrators cannot manage API keys without 2FA."
      action="Turning off…" submitLabel="Turn off 2FA"
      onSubmit=${async (body) => {
        await api('POST', '/auth/2fa/disable', body);
        await refresh().catch(() => undefined);
        await reloadUser().catch(() => undefined);
        setMessage('');
      }} />
  </div>`;
}

function ChangePasswordSection() {
  const policy = usePolicy();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();
  const errors = fieldErrors(error);
  const mismatch = confirm.length > 0 && confirm !== next;

  async function submit(event) {
    event.preventDefault();
    if (mismatch) return;
    setDone(false);
    await run(async () => {
      await api('POST', '/auth/change-password', { currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setConfirm('');
      setDone(true);
    });
  }

  return html`<form onSubmit=${submit} class="stack" data-testid="change-password-form">
    ${done ? html`<${Alert} kind="success">Password changed. Your other sessions were signed out.<//>` : null}
    <${Alert} error=${error && !errors.newPassword ? error : null} />
    <${PasswordField} label="Current password" value=${current} onInput=${(e) => setCurrent(e.currentTarget.value)} autocomplete="current-password" errors=${errors.currentPassword} />
    <${PasswordField} label="New password" value=${next} onInput=${(e) => setNext(e.currentTarget.value)} autocomplete="new-password" describedBy="change-rules" />
    <${PasswordChecklist} id="change-rules" password=${next} policy=${policy} serverErrors=${errors.newPassword} />
    <${PasswordField} label="Repeat the new password" value=${confirm} onInput=${(e) => setConfirm(e.currentTarget.value)} autocomplete="new-password"
      errors=${mismatch ? ['The two passwords are not the same'] : null} />
    <div><${Submit} busy=${busy} busyText="Saving…" disabled=${busy || mismatch}>Change password<//></div>
  </form>`;
}

export function SecurityPage({ user }) {
  return html`<div class="stack-lg">
    <${PageTitle} sub=${`Signed in as ${user.email}`}>Security settings<//>
    <section class="card stack" aria-labelledby="mfa-title">
      <h2 id="mfa-title">Two-factor authentication</h2>
      <${TwoFactorSection} user=${user} />
    </section>
    <section class="card stack" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <${ChangePasswordSection} />
    </section>
  </div>`;
}
