// The team's users (admins): add, change role, disable/enable, unlock, reset 2FA, move records, remove.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api } from '../api.js';
import { PasswordChecklist, usePolicy } from '../password.js';
import { Alert, Field, PageTitle, PasswordField, Submit, Time, fieldErrors, useAction, useLoad } from '../ui.js';

export const ROLES = ['admin', 'agent', 'viewer'];
const ROLE_HINTS = {
  admin: 'Admin: everything in the team, including users, keys and settings',
  agent: 'Agent: reads, changes and deletes CRM records',
  viewer: 'Viewer: reads only',
};
/** The select value meaning "nobody": records keep no assignee. */
export const UNASSIGNED = '';

export const fullName = (u) => [u.firstName, u.lastName].filter(Boolean).join(' ') || u.email;

/** Locked now: the API may report a lockout as lockedUntil (a time) or locked (a flag). */
export function isLocked(u, now = Date.now()) {
  if (u.locked === true) return true;
  return Boolean(u.lockedUntil && new Date(u.lockedUntil).getTime() > now);
}

/** DELETE /users/:id with the records' new owner; "unassigned" sends no reassignTo. */
export function removePath(id, reassignTo) {
  return reassignTo ? `/users/${id}?reassignTo=${encodeURIComponent(reassignTo)}` : `/users/${id}`;
}

function AddUserForm({ onAdded }) {
  const policy = usePolicy();
  const empty = { email: '', firstName: '', lastName: '', password: '', role: 'agent' };
  const [form, setForm] = useState(empty);
  const [added, setAdded] = useState(null);
  const { busy, error, run } = useAction();
  const errors = fieldErrors(error);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });

  async function submit(event) {
    event.preventDefault();
    setAdded(null);
    await run(async () => {
      const { data } = await api('POST', '/users', {
        email: form.email.trim(),
        firstName: form.firstName.trim(),
        lastName: form.lastName.trim(),
        password: form.password,
        role: form.role,
      });
      setAdded(data);
      setForm(empty);
      onAdded(data);
    });
  }

  return html`<form onSubmit=${submit} class="card stack" aria-labelledby="add-user-title" data-testid="add-user-form">
    <h2 id="add-user-title">Add a user</h2>
    ${added ? html`<${Alert} kind="success">${fullName(added)} was added as ${added.role}. Give them their password in person or over a separate channel.<//>` : null}
    <${Alert} error=${error && !errors.password ? error : null} />
    <div class="grid-2">
      <${Field} label="First name" name="firstName" required maxlength="100" autocomplete="off" value=${form.firstName} onInput=${set('firstName')} errors=${errors.firstName} />
      <${Field} label="Last name" name="lastName" required maxlength="100" autocomplete="off" value=${form.lastName} onInput=${set('lastName')} errors=${errors.lastName} />
    </div>
    <div class="grid-2">
      <${Field} label="Email" type="email" name="email" required maxlength="254" autocomplete="off" value=${form.email} onInput=${set('email')} errors=${errors.email} />
      <${Field} label="Role" type="select" name="role" value=${form.role} onChange=${set('role')} hint=${ROLE_HINTS[form.role]}>
        ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
      <//>
    </div>
    <${PasswordField} label="Initial password" name="new-user-password" value=${form.password} onInput=${set('password')} autocomplete="new-password" describedBy="new-user-rules" />
    <${PasswordChecklist} id="new-user-rules" password=${form.password} policy=${policy} serverErrors=${errors.password} />
    <div><${Submit} busy=${busy} busyText="Adding…">Add user<//></div>
  </form>`;
}

/** A <select> of the other enabled users of the team (the API refuses a disabled one) plus "Unassigned". */
function OwnerSelect({ label, users, except, value, onChange, hint }) {
  return html`<${Field} label=${label} type="select" value=${value} onChange=${(e) => onChange(e.currentTarget.value)} hint=${hint}>
    <option value=${UNASSIGNED}>Unassigned (nobody)</option>
    ${users
      .filter((u) => u.id !== except && !u.disabled)
      .map((u) => html`<option value=${u.id}>${fullName(u)} (${u.email})</option>`)}
  <//>`;
}

/** One section of the manage panel: its own busy state, error and success message. */
function useSection() {
  const action = useAction();
  const [done, setDone] = useState('');
  async function run(work) {
    setDone('');
    const message = await action.run(work);
    if (message) setDone(message);
    return message;
  }
  return { ...action, done, run };
}

function SectionStatus({ section }) {
  return html`${section.done ? html`<${Alert} kind="success">${section.done}<//>` : null}<${Alert} error=${section.error} />`;
}

function ManageUser({ user, self, users, onChanged, onRemoved, onClose }) {
  const [role, setRole] = useState(user.role);
  const [moveTo, setMoveTo] = useState(UNASSIGNED);
  const [removeTo, setRemoveTo] = useState(UNASSIGNED);
  const [confirmReset, setConfirmReset] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const roleSection = useSection();
  const access = useSection();
  const lock = useSection();
  const mfa = useSection();
  const move = useSection();
  const remove = useSection();
  const headingRef = useRef(null);
  const isSelf = user.id === self.id;
  const name = fullName(user);
  const nameOf = (id) =>
    id ? fullName(users.find((u) => u.id === id) || { email: 'that user' }) : 'nobody (unassigned)';

  useEffect(() => headingRef.current?.focus(), [user.id]);
  useEffect(() => setRole(user.role), [user.role]);

  const patch = (body) => api('PATCH', `/users/${user.id}`, body);

  return html`<section class="card stack manage-user" aria-labelledby="manage-title" data-testid="manage-user" data-email=${user.email}>
    <div class="row row-between">
      <h2 id="manage-title" tabindex="-1" ref=${headingRef}>Manage ${name}</h2>
      <button type="button" class="button button-secondary" onClick=${onClose}>Close</button>
    </div>
    <p class="muted">${user.email}${isSelf ? ' · this is you: change your own account on the Security page' : ''}</p>

    ${
      isSelf
        ? null
        : html`<form class="subcard stack-sm" data-testid="role-form" aria-label="Role" onSubmit=${async (e) => {
            e.preventDefault();
            await roleSection.run(async () => {
              await patch({ role });
              onChanged();
              return `${name} is now ${role}. Their sessions were signed out.`;
            });
          }}>
          <h3>Role</h3>
          <${SectionStatus} section=${roleSection} />
          <div class="row row-end">
            <div class="grow"><${Field} label=${`New role for ${name}`} type="select" value=${role} onChange=${(e) => setRole(e.currentTarget.value)} hint=${ROLE_HINTS[role]}>
              ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
            <//></div>
            <${Submit} busy=${roleSection.busy} busyText="Saving…" kind="secondary" disabled=${roleSection.busy || role === user.role}>Save role<//>
          </div>
        </form>
        <div class="subcard stack-sm" data-testid="access-section">
          <h3>Access</h3>
          <${SectionStatus} section=${access} />
          <p class="muted">${user.disabled ? `${name} cannot sign in.` : 'Disabling signs them out everywhere at once and stops every sign-in.'}</p>
          <div>
            <button type="button" class=${user.disabled ? 'button button-secondary' : 'button button-danger'} disabled=${access.busy}
              onClick=${() =>
                access.run(async () => {
                  await patch({ disabled: !user.disabled });
                  onChanged();
                  return user.disabled ? `${name} can sign in again.` : `${name} is disabled and signed out.`;
                })}>
              ${access.busy ? 'Saving…' : user.disabled ? 'Enable user' : 'Disable user'}
            </button>
          </div>
        </div>`
    }

    ${
      isSelf
        ? null
        : html`<div class="subcard stack-sm" data-testid="unlock-section">
      <h3>Sign-in lock</h3>
      <${SectionStatus} section=${lock} />
      <p class="muted">${isLocked(user) ? html`<span class="badge badge-warn">Locked</span> ` : null}After too many wrong passwords or codes an account is locked for a while. Unlock it once you know it was them.</p>
      <div>
        <button type="button" class="button button-secondary" disabled=${lock.busy} onClick=${() =>
          lock.run(async () => {
            await api('POST', `/users/${user.id}/unlock`, {});
            onChanged();
            return `${name} can try to sign in again.`;
          })}>${lock.busy ? 'Unlocking…' : 'Unlock sign-in'}</button>
      </div>
    </div>`
    }

    ${
      // Kept after a reset (the reloaded user has 2FA off) so its success message stays on screen.
      (user.mfaEnabled || mfa.done) && !isSelf
        ? html`<div class="subcard stack-sm" data-testid="mfa-reset-section">
          <h3>Two-factor authentication</h3>
          <${SectionStatus} section=${mfa} />
          <p class="muted">Lost phone and backup codes? Resetting turns 2FA off for ${name}, signs them out everywhere and emails them. They should turn it on again at their next sign-in.</p>
          ${
            !user.mfaEnabled
              ? null
              : confirmReset
                ? html`<div class="row" role="group" aria-label=${`Confirm resetting 2FA of ${name}`}>
                <button type="button" class="button button-danger" disabled=${mfa.busy} onClick=${async () => {
                  await mfa.run(async () => {
                    await api('DELETE', `/users/${user.id}/2fa`);
                    onChanged();
                    return `2FA is off for ${name}; they were signed out and emailed.`;
                  });
                  setConfirmReset(false);
                }}>${mfa.busy ? 'Resetting…' : 'Yes, reset 2FA'}</button>
                <button type="button" class="button button-secondary" onClick=${() => setConfirmReset(false)}>Cancel</button>
              </div>`
                : html`<div><button type="button" class="button button-secondary" onClick=${() => setConfirmReset(true)}>Reset 2FA…</button></div>`
          }
        </div>`
        : null
    }

    <form class="subcard stack-sm" data-testid="reassign-form" aria-label="Move records" onSubmit=${async (e) => {
      e.preventDefault();
      await move.run(async () => {
        const { data } = await api('POST', `/users/${user.id}/reassign`, { toUserId: moveTo || null });
        const moved = data && typeof data.moved === 'number' ? data.moved : 0;
        return `Moved ${moved} record${moved === 1 ? '' : 's'} to ${nameOf(moveTo)}.`;
      });
    }}>
      <h3>Move records</h3>
      <${SectionStatus} section=${move} />
      <p class="muted">Every record and open task assigned to ${name} goes to the person you pick.</p>
      <div class="row row-end">
        <div class="grow"><${OwnerSelect} label="Move them to" users=${users} except=${user.id} value=${moveTo} onChange=${setMoveTo} /></div>
        <${Submit} busy=${move.busy} busyText="Moving…" kind="secondary">Move records<//>
      </div>
    </form>

    ${
      isSelf
        ? null
        : html`<div class="subcard stack-sm" data-testid="remove-section">
          <h3>Remove from the team</h3>
          <${Alert} error=${remove.error} />
          <p class="muted">${name} loses access for good; their records go to the person you pick.</p>
          <${OwnerSelect} label="Their records go to" users=${users} except=${user.id} value=${removeTo} onChange=${setRemoveTo} />
          ${
            confirmRemove
              ? html`<div class="row" role="group" aria-label=${`Confirm removing ${name}`}>
                <span>Remove ${name} and give their records to ${nameOf(removeTo)}?</span>
                <button type="button" class="button button-danger" disabled=${remove.busy} data-testid="confirm-remove" onClick=${async () => {
                  const removed = await remove.run(async () => {
                    await api('DELETE', removePath(user.id, removeTo));
                    return 'removed';
                  });
                  setConfirmRemove(false);
                  if (removed) onRemoved(name);
                }}>${remove.busy ? 'Removing…' : 'Yes, remove'}</button>
                <button type="button" class="button button-secondary" onClick=${() => setConfirmRemove(false)}>Cancel</button>
              </div>`
              : html`<div><button type="button" class="button button-danger" onClick=${() => setConfirmRemove(true)}>Remove user…</button></div>`
          }
        </div>`
    }
  </section>`;
}

function StatusBadges({ user }) {
  return html`<span class="badges">
    ${user.disabled ? html`<span class="badge badge-danger">Disabled</span>` : html`<span class="badge badge-ok">Active</span>`}
    ${isLocked(user) ? html`<span class="badge badge-warn">Locked</span>` : null}
    ${user.mfaEnabled ? html`<span class="badge badge-info">2FA on</span>` : html`<span class="badge badge-neutral">No 2FA</span>`}
  </span>`;
}

export function UsersPage({ user: self }) {
  const users = useLoad(() => api('GET', '/users'));
  const [selectedId, setSelectedId] = useState(null);
  const [notice, setNotice] = useState('');
  const list = users.data || [];
  const selected = list.find((u) => u.id === selectedId) || null;

  return html`<div class="stack-lg">
    <${PageTitle} sub="Who can sign in to your team, and what they may do.">Users<//>
    ${notice ? html`<${Alert} kind="success">${notice}<//>` : null}
    <section class="card stack" aria-labelledby="users-title">
      <div class="row row-between">
        <h2 id="users-title">Team members</h2>
        <button type="button" class="button button-secondary" onClick=${users.reload} disabled=${users.loading}>Reload</button>
      </div>
      <${Alert} error=${users.error} />
      ${users.error && users.error.code === 'MFA_ENROLLMENT_REQUIRED' ? html`<p><a href="#/security">Turn on two-factor authentication</a></p>` : null}
      ${users.loading && !users.data ? html`<p class="muted" role="status">Loading users…</p>` : null}
      ${
        list.length
          ? html`<div class="table-wrap"><table class="data" data-testid="users-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Last sign-in</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${list.map(
              (
                u,
              ) => html`<tr key=${u.id} data-testid="user-row" data-email=${u.email} class=${u.id === selectedId ? 'row-selected' : undefined}>
                <th scope="row">${fullName(u)}${u.id === self.id ? html` <span class="badge badge-neutral">You</span>` : null}</th>
                <td>${u.email}</td>
                <td data-testid="user-role">${u.role}</td>
                <td data-testid="user-status"><${StatusBadges} user=${u} /></td>
                <td>${u.lastLoginAt ? html`<${Time} value=${u.lastLoginAt} />` : html`<span class="muted">Never</span>`}</td>
                <td class="actions"><button type="button" class="button button-secondary" aria-expanded=${u.id === selectedId ? 'true' : 'false'}
                  onClick=${() => {
                    setNotice('');
                    setSelectedId(u.id === selectedId ? null : u.id);
                  }}>Manage<span class="visually-hidden"> ${fullName(u)}</span></button></td>
              </tr>`,
            )}</tbody>
          </table></div>`
          : null
      }
    </section>
    ${
      selected
        ? html`<${ManageUser} key=${selected.id} user=${selected} self=${self} users=${list} onChanged=${users.reload}
          onClose=${() => setSelectedId(null)}
          onRemoved=${(name) => {
            setSelectedId(null);
            setNotice(`${name} was removed from the team.`);
            users.reload();
          }} />`
        : null
    }
    <${AddUserForm} onAdded=${() => {
      setNotice('');
      users.reload();
    }} />
  </div>`;
}
