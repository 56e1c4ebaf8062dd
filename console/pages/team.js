// Team settings (admins): the team's name and who sees which CRM records.
import { html, useEffect, useState } from '../vendor/htm-preact.js';
import { api } from '../api.js';
import { Alert, Field, PageTitle, Submit, Time, fieldErrors, useAction, useLoad } from '../ui.js';

export const VISIBILITY = [
  {
    value: 'team',
    label: 'Everyone in the team',
    hint: 'Agents and viewers see, list and export every record of the team.',
  },
  {
    value: 'assigned',
    label: 'Only their own records',
    hint: 'Agents and viewers see and change only the records assigned to them (and the activities and tasks linked to those). Admins and API keys still see everything.',
  },
];

/** The PATCH body: only what changed (an empty object means nothing to save). */
export function teamChanges(team, form) {
  const body = {};
  if (form.name.trim() !== team.name) body.name = form.name.trim();
  if (form.agentVisibility !== team.agentVisibility) body.agentVisibility = form.agentVisibility;
  return body;
}

export function TeamPage() {
  const team = useLoad(() => api('GET', '/team'));
  const [form, setForm] = useState(null);
  const [saved, setSaved] = useState(false);
  const { busy, error, run } = useAction();
  const errors = fieldErrors(error);

  useEffect(() => {
    if (team.data) setForm({ name: team.data.name || '', agentVisibility: team.data.agentVisibility || 'team' });
  }, [team.data]);

  const changes = team.data && form ? teamChanges(team.data, form) : {};
  const dirty = Object.keys(changes).length > 0;

  async function submit(event) {
    event.preventDefault();
    setSaved(false);
    if (!dirty) return;
    await run(async () => {
      await api('PATCH', '/team', changes);
      setSaved(true);
      await team.reload();
    });
  }

  return html`<div class="stack-lg">
    <${PageTitle} sub="Your team's name and who may see which records.">Team settings<//>
    <${Alert} error=${team.error} />
    ${team.loading && !team.data ? html`<p class="muted" role="status">Loading team…</p>` : null}
    ${
      team.data && form
        ? html`<form class="card stack" onSubmit=${submit} data-testid="team-form" aria-labelledby="team-title">
          <h2 id="team-title">Settings</h2>
          ${saved ? html`<${Alert} kind="success">Team settings saved.<//>` : null}
          <${Alert} error=${error} />
          <${Field} label="Team name" name="teamName" required maxlength="200" autocomplete="organization" value=${form.name}
            onInput=${(e) => setForm({ ...form, name: e.currentTarget.value })} errors=${errors.name} />
          <fieldset class="stack-sm" data-testid="visibility">
            <legend>Who sees which records</legend>
            ${VISIBILITY.map(
              (v) => html`<label class="check check-block">
                <input type="radio" name="agentVisibility" value=${v.value} checked=${form.agentVisibility === v.value}
                  onChange=${() => setForm({ ...form, agentVisibility: v.value })} aria-describedby=${`visibility-${v.value}-hint`} />
                <span><strong>${v.label}</strong> <code>${v.value}</code><span class="hint block" id=${`visibility-${v.value}-hint`}>${v.hint}</span></span>
              </label>`,
            )}
          </fieldset>
          <p class="muted">Team created <${Time} value=${team.data.createdAt} />.</p>
          <div><${Submit} busy=${busy} busyText="Saving…" disabled=${busy || !dirty}>Save settings<//></div>
        </form>`
        : null
    }
  </div>`;
}
