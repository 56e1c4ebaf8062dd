// Signed-out pages: sign in (with the 2FA step), first-run registration, forgot and reset password.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { ApiError, login, publicCall, register } from '../api.js';
import { PasswordChecklist, usePolicy } from '../password.js';
import { Alert, Field, PageTitle, PasswordField, Submit, fieldErrors, useAction } from '../ui.js';

function AuthCard({ children }) {
  return html`<div class="auth-card">${children}</div>`;
}

export function LoginPage({ notice }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState('password');
  const [code, setCode] = useState('');
  const [useBackup, setUseBackup] = useState(false);
  const { busy, error, setError, run } = useAction();
  const codeRef = useRef(null);
  const emailRef = useRef(null);

  useEffect(() => {
    if (step === 'password' && emailRef.current && !emailRef.current.value) emailRef.current.focus();
  }, [step]);

  useEffect(() => {
    if (step === 'code' && codeRef.current) codeRef.current.focus();
  }, [step, useBackup]);

  async function submitPassword(event) {
    event.preventDefault();
    await run(async () => {
      try {
        await login(email.trim(), password);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'MFA_REQUIRED') {
          setStep('code');
          return;
        }
        throw e;
      }
    });
  }

  async function submitCode(event) {
    event.preventDefault();
    await run(() => login(email.trim(), password, code.replace(/\s+/g, '')));
  }

  function startOver() {
    setStep('password');
    setCode('');
    setPassword('');
    setError(null);
  }

  if (step === 'code') {
    return html`<${AuthCard}>
      <${PageTitle} sub=${useBackup ? 'Enter one of the backup codes you saved when you turned on two-factor authentication. Each code works once.' : 'Open your authenticator app and enter the 6-digit code for Hearth CRM.'}>Two-factor authentication<//>
      <form onSubmit=${submitCode} class="stack" data-testid="mfa-form">
        <${Alert} error=${error} />
        <div class="field">
          <label for="login-otp">${useBackup ? 'Backup code' : 'Authentication code'}</label>
          <input id="login-otp" ref=${codeRef} name="otp" value=${code} onInput=${(e) => setCode(e.currentTarget.value)} required
            autocomplete="one-time-code" spellcheck="false" autocapitalize="off"
            inputmode=${useBackup ? 'text' : 'numeric'} pattern=${useBackup ? undefined : '[0-9 ]{6,7}'} maxlength=${useBackup ? 32 : 7} />
        </div>
        <${Submit} busy=${busy} busyText="Checking…">Verify and sign in<//>
        <div class="row">
          <button type="button" class="button-link" onClick=${() => {
            setUseBackup(!useBackup);
            setCode('');
            setError(null);
          }}>
            ${useBackup ? 'Use a code from the authenticator app' : 'Use a backup code instead'}
          </button>
          <button type="button" class="button-link" onClick=${startOver}>Start over</button>
        </div>
      </form>
    <//>`;
  }

  return html`<${AuthCard}>
    <${PageTitle} sub="Sign in to manage your team's security.">Sign in<//>
    <form onSubmit=${submitPassword} class="stack" data-testid="login-form">
      ${notice ? html`<${Alert} kind="info">${notice}<//>` : null}
      <${Alert} error=${error} />
      <${Field} label="Email" type="email" name="email" autocomplete="username" required inputRef=${emailRef} value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} maxlength="254" />
      <${PasswordField} label="Password" name="password" value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} autocomplete="current-password" />
      <${Submit} busy=${busy} busyText="Signing in…">Sign in<//>
    </form>
    <p class="auth-links"><a href="#/forgot-password">Forgot your password?</a> · <a href="#/register">Create a team</a></p>
  <//>`;
}

export function RegisterPage() {
  const policy = usePolicy();
  const [form, setForm] = useState({ teamName: '', firstName: '', lastName: '', email: '', password: '' });
  const { busy, error, run } = useAction();
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const errors = fieldErrors(error);

  async function submit(event) {
    event.preventDefault();
    await run(() =>
      register({
        ...form,
        email: form.email.trim(),
        teamName: form.teamName.trim(),
        firstName: form.firstName.trim(),
        lastName: form.lastName.trim(),
      }),
    );
  }

  return html`<${AuthCard}>
    <${PageTitle} sub="Set up your team. You become its first administrator.">Create your team<//>
    <form onSubmit=${submit} class="stack" data-testid="register-form">
      <${Alert} error=${error} />
      <${Field} label="Team name" name="teamName" required maxlength="200" autocomplete="organization" value=${form.teamName} onInput=${set('teamName')} errors=${errors.teamName} />
      <div class="grid-2">
        <${Field} label="First name" name="firstName" required maxlength="100" autocomplete="given-name" value=${form.firstName} onInput=${set('firstName')} errors=${errors.firstName} />
        <${Field} label="Last name" name="lastName" required maxlength="100" autocomplete="family-name" value=${form.lastName} onInput=${set('lastName')} errors=${errors.lastName} />
      </div>
      <${Field} label="Work email" type="email" name="email" required maxlength="254" autocomplete="username" value=${form.email} onInput=${set('email')} errors=${errors.email} />
      <${PasswordField} label="Password" name="password" value=${form.password} onInput=${set('password')} autocomplete="new-password" describedBy="register-rules" />
      <${PasswordChecklist} id="register-rules" password=${form.password} policy=${policy} serverErrors=${errors.password} />
      <${Submit} busy=${busy} busyText="Creating your team…">Create team<//>
    </form>
    <p class="auth-links">Already have an account? <a href="#/login">Sign in</a></p>
  <//>`;
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const { busy, error, run } = useAction();

  async function submit(event) {
    event.preventDefault();
    await run(async () => {
      await publicCall('POST', '/auth/forgot-password', { email: email.trim() });
      setSent(true);
    });
  }

  return html`<${AuthCard}>
    <${PageTitle} sub="We will email you a link to choose a new password.">Forgot your password?<//>
    ${
      sent
        ? html`<div class="stack">
          <${Alert} kind="success">If an account exists for ${email.trim()}, a reset link is on its way. The link works once and expires soon.<//>
          <p><a href="#/login">Back to sign in</a></p>
        </div>`
        : html`<form onSubmit=${submit} class="stack" data-testid="forgot-form">
          <${Alert} error=${error} />
          <${Field} label="Email" type="email" name="email" required maxlength="254" autocomplete="username" value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} />
          <${Submit} busy=${busy} busyText="Sending…">Send reset link<//>
          <p class="auth-links"><a href="#/login">Back to sign in</a></p>
        </form>`
    }
  <//>`;
}

export function ResetPasswordPage({ token: initialToken }) {
  const policy = usePolicy();
  // Take the token out of the address bar (and so out of history) as soon as we hold it in memory.
  const [token] = useState(initialToken || '');
  useEffect(() => {
    if (initialToken) history.replaceState(null, '', `${location.pathname}#/reset-password`);
  }, []);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();
  const errors = fieldErrors(error);
  const mismatch = confirm.length > 0 && confirm !== password;

  async function submit(event) {
    event.preventDefault();
    if (mismatch) return;
    await run(async () => {
      await publicCall('POST', '/auth/reset-password', { token, password });
      setDone(true);
    });
  }

  if (!token) {
    return html`<${AuthCard}>
      <${PageTitle}>Reset your password<//>
      <${Alert} kind="error">This reset link is incomplete. Open the link from the email again, or ask for a new one.<//>
      <p><a href="#/forgot-password">Ask for a new link</a></p>
    <//>`;
  }
  if (done) {
    return html`<${AuthCard}>
      <${PageTitle}>Password changed<//>
      <${Alert} kind="success">Your password was changed and every session was signed out. Sign in with your new password.<//>
      <p><a class="button button-primary" href="#/login">Sign in</a></p>
    <//>`;
  }
  return html`<${AuthCard}>
    <${PageTitle} sub="Choose a new password for your account.">Reset your password<//>
    <form onSubmit=${submit} class="stack" data-testid="reset-form">
      <${Alert} error=${error && !errors.password ? error : null} />
      <${PasswordField} label="New password" name="password" value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} autocomplete="new-password" describedBy="reset-rules" />
      <${PasswordChecklist} id="reset-rules" password=${password} policy=${policy} serverErrors=${errors.password} />
      <${PasswordField} label="Repeat the new password" name="confirm" value=${confirm} onInput=${(e) => setConfirm(e.currentTarget.value)} autocomplete="new-password"
        errors=${mismatch ? ['The two passwords are not the same'] : null} />
      <${Submit} busy=${busy} busyText="Saving…" disabled=${busy || mismatch}>Set new password<//>
    </form>
  <//>`;
}
