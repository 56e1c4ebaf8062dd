// The password policy, explained live: a checklist that updates as the user types, from the server's settings.
import { html, useEffect, useState } from './vendor/htm-preact.js';
import { useId } from './ui.js';

const DEFAULT_POLICY = {
  minLength: 12,
  maxLength: 128,
  requireUppercase: true,
  requireLowercase: true,
  requireNumber: true,
  requireSpecial: true,
};
let configPromise = null;

/** /console/config.json: the rules this server enforces (fetched once). */
export function loadClientConfig() {
  if (!configPromise) {
    configPromise = fetch('/console/config.json', { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : {}))
      .catch(() => ({}));
  }
  return configPromise;
}

export function usePolicy() {
  const [policy, setPolicy] = useState(DEFAULT_POLICY);
  useEffect(() => {
    loadClientConfig().then((c) => c.passwordPolicy && setPolicy(c.passwordPolicy));
  }, []);
  return policy;
}

/** The rules as { key, label, met }. Keys match the server's sentences (see serverRuleKey). */
export function passwordRules(password, policy) {
  const rules = [
    {
      key: 'length',
      label: `At least ${policy.minLength} characters`,
      met: password.length >= policy.minLength && password.length <= policy.maxLength,
    },
  ];
  if (policy.requireUppercase)
    rules.push({ key: 'upper', label: 'An uppercase letter (A–Z)', met: /[A-Z]/.test(password) });
  if (policy.requireLowercase)
    rules.push({ key: 'lower', label: 'A lowercase letter (a–z)', met: /[a-z]/.test(password) });
  if (policy.requireNumber) rules.push({ key: 'number', label: 'A number (0–9)', met: /\d/.test(password) });
  if (policy.requireSpecial)
    rules.push({
      key: 'special',
      label: 'A special character (like ! ? # or a space)',
      met: /[^A-Za-z0-9]/.test(password),
    });
  return rules;
}

/** Which checklist line a server message is about (null: a rule the browser cannot check, e.g. breached list). */
export function serverRuleKey(message) {
  const m = String(message).toLowerCase();
  if (/characters/.test(m) && /least|most/.test(m)) return 'length';
  if (/uppercase/.test(m)) return 'upper';
  if (/lowercase/.test(m)) return 'lower';
  if (/number|digit/.test(m)) return 'number';
  if (/special/.test(m)) return 'special';
  return null;
}

/**
 * The checklist for a new password. `serverErrors`: the sentences the API sent back in `details` for this field;
 * each is shown beside its rule, and the ones the browser cannot check (common or breached passwords, reuse of
 * a recent password, containing the email) are listed below.
 */
export function PasswordChecklist({ id, password, policy, serverErrors = [] }) {
  const rules = passwordRules(password, policy);
  const byRule = {};
  const other = [];
  for (const message of serverErrors) {
    const key = serverRuleKey(message);
    if (key) (byRule[key] = byRule[key] || []).push(message);
    else other.push(message);
  }
  const listId = useId('rules');
  return html`<div class="checklist" id=${id}>
    <p class="hint" id=${listId}>Your new password needs:</p>
    <ul aria-labelledby=${listId}>
      ${rules.map(
        (r) => html`<li class=${r.met ? 'rule rule-met' : 'rule'} data-rule=${r.key}>
          <span class="rule-mark" aria-hidden="true">${r.met ? '✓' : '○'}</span>
          <span class="rule-text">${r.label}<span class="visually-hidden">${r.met ? ' (done)' : ' (not yet)'}</span>
            ${byRule[r.key] ? html`<span class="rule-server" role="alert">${byRule[r.key].join(' ')}</span>` : null}</span>
        </li>`,
      )}
      <li class="rule rule-note"><span class="rule-mark" aria-hidden="true">·</span><span class="rule-text">Not a common or breached password, and not one of your last 3</span></li>
    </ul>
    ${other.length ? html`<ul class="field-errors" role="alert">${other.map((m) => html`<li>${m}</li>`)}</ul>` : null}
  </div>`;
}

export function policySatisfied(password, policy) {
  return passwordRules(password, policy).every((r) => r.met);
}
