// Webhooks (admins with 2FA): subscribe a URL to CRM events, see each delivery, redeliver, send a test.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api } from '../api.js';
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
import { crmResources, useClientConfig } from '../config.js';

export const EVENT_ACTIONS = ['created', 'updated', 'deleted', 'restored'];

/** The record types that send events, each with its events beyond <type>.<action>, from the server's config. */
export function eventResources(config) {
  return crmResources(config).map((r) => ({ type: r.webhookType, extras: r.extraWebhookEvents || [] }));
}

function useEventResources() {
  return eventResources(useClientConfig());
}
const POLL_MS = 1500;
const POLL_MAX = 40;

/** The shortest list with the same meaning: `*` alone, or `client.*` instead of its single events. */
export function normalizeEvents(events, resources) {
  const set = new Set(events);
  if (set.has('*')) return ['*'];
  const out = [];
  for (const { type: r, extras } of resources) {
    if (set.has(`${r}.*`)) {
      out.push(`${r}.*`);
      continue;
    }
    for (const e of [...EVENT_ACTIONS.map((a) => `${r}.${a}`), ...extras]) if (set.has(e)) out.push(e);
  }
  // Names this console does not know (a newer server) are kept as they are.
  const known = new Set([
    '*',
    ...resources.flatMap(({ type: r, extras }) => [`${r}.*`, ...EVENT_ACTIONS.map((a) => `${r}.${a}`), ...extras]),
  ]);
  for (const e of events) if (!known.has(e) && !out.includes(e)) out.push(e);
  return out;
}

function EventPicker({ events, onChange, idPrefix }) {
  const resources = useEventResources();
  const set = new Set(events);
  const all = set.has('*');
  const toggle = (name) => onChange(set.has(name) ? events.filter((e) => e !== name) : [...events, name]);
  const box = (name, implied, label) => html`<label class="check">
    <input type="checkbox" checked=${set.has(name) || implied} disabled=${implied} onChange=${() => toggle(name)} data-event=${name} />
    <span class="visually-hidden">${label}${implied ? ' (included)' : ''}</span>
  </label>`;
  return html`<fieldset class="scopes" data-testid=${`${idPrefix}-events`}>
    <legend>Events <span class="muted">(what is sent to the URL)</span></legend>
    <label class="check check-wide">
      <input type="checkbox" checked=${all} onChange=${() => toggle('*')} data-event="*" />
      <span><strong>Every event</strong> <code>*</code></span>
    </label>
    <div class="table-wrap">
      <table class="scope-grid event-grid">
        <caption class="visually-hidden">Events by resource and change</caption>
        <thead><tr><th scope="col">Resource</th><th scope="col">all</th>${EVENT_ACTIONS.map((a) => html`<th scope="col">${a}</th>`)}<th scope="col">other</th></tr></thead>
        <tbody>
          ${resources.map(({ type: r, extras }) => {
            const wildcard = `${r}.*`;
            const rowAll = all || set.has(wildcard);
            return html`<tr>
              <th scope="row">${r}</th>
              <td>${box(wildcard, all, `every ${r} event ${wildcard}`)}</td>
              ${EVENT_ACTIONS.map((a) => html`<td>${box(`${r}.${a}`, rowAll, `${r}.${a}`)}</td>`)}
              <td class="extra">${extras.map(
                (e) => html`<label class="check">
                  <input type="checkbox" checked=${set.has(e) || rowAll} disabled=${rowAll} onChange=${() => toggle(e)} data-event=${e} />
                  <span>${e.split('.')[1]}</span><span class="visually-hidden"> (${e})</span>
                </label>`,
              )}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  </fieldset>`;
}

function CreatedHook({ created, onDone }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<section class="card stack created-key" aria-labelledby="created-hook-title" data-testid="created-webhook">
    <h2 id="created-hook-title" tabindex="-1" ref=${ref}>Your webhook’s signing secret</h2>
    <${Alert} kind="warning">Copy the secret now and store it with the receiver. It is shown only once.<//>
    <code class="secret secret-key" data-testid="webhook-secret">${created.secret}</code>
    <div class="row">
      <${CopyButton} text=${created.secret} label="Copy secret" testid="copy-webhook-secret" />
      <button type="button" class="button button-primary" onClick=${onDone}>Done</button>
    </div>
    <p class="muted">Deliveries to <code>${created.url}</code> carry <code>webhook-id</code>, <code>webhook-timestamp</code> and
      <code>webhook-signature</code> headers (Standard Webhooks); verify the signature with this secret.</p>
  </section>`;
}

function CreateHookForm({ onCreated }) {
  const resources = useEventResources();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState([]);
  const [localError, setLocalError] = useState('');
  const { busy, error, run } = useAction();
  const errors = fieldErrors(error);

  async function submit(event) {
    event.preventDefault();
    setLocalError('');
    const chosen = normalizeEvents(events, resources);
    if (!chosen.length) return setLocalError('Pick at least one event.');
    const body = { url: url.trim(), events: chosen };
    if (description.trim()) body.description = description.trim();
    await run(async () => {
      const { data } = await api('POST', '/webhooks', body);
      onCreated(data);
    });
  }

  return html`<form onSubmit=${submit} class="card stack" aria-labelledby="create-hook-title" data-testid="create-webhook-form">
    <h2 id="create-hook-title">Add a webhook</h2>
    <${Alert} error=${error} />
    ${localError ? html`<${Alert} kind="error">${localError}<//>` : null}
    <${Field} label="Endpoint URL" type="url" name="url" required maxlength="2048" placeholder="https://example.com/hooks/hearth" spellcheck="false"
      value=${url} onInput=${(e) => setUrl(e.currentTarget.value)} errors=${errors.url} hint="https:// in production. Addresses on private or local networks are refused unless the server allows them." />
    <${Field} label="Description (optional)" name="description" maxlength="500" value=${description} onInput=${(e) => setDescription(e.currentTarget.value)} errors=${errors.description} />
    <${EventPicker} events=${events} onChange=${setEvents} idPrefix="create" />
    <div><${Submit} busy=${busy} busyText="Creating…">Create webhook<//></div>
  </form>`;
}

const STATUS_BADGE = { succeeded: 'badge-ok', failed: 'badge-danger', pending: 'badge-warn' };

function DeliveryRow({ hookId, delivery, onRedelivered }) {
  const { busy, error, run } = useAction();
  return html`<tr data-testid="delivery-row" data-event-type=${delivery.eventType} data-status=${delivery.status}>
    <td><code>${delivery.eventType}</code></td>
    <td><span class=${`badge ${STATUS_BADGE[delivery.status] || 'badge-neutral'}`}>${delivery.status}</span></td>
    <td>${delivery.attempts ?? 0}</td>
    <td>${delivery.lastStatusCode ?? '—'}${delivery.lastError ? html`<span class="muted block">${delivery.lastError}</span>` : null}</td>
    <td><${Time} value=${delivery.createdAt} /></td>
    <td>${delivery.status === 'pending' && delivery.nextAttemptAt ? html`<${Time} value=${delivery.nextAttemptAt} />` : '—'}</td>
    <td class="actions">
      <button type="button" class="button button-secondary" disabled=${busy} onClick=${() =>
        run(async () => {
          await api('POST', `/webhooks/${hookId}/deliveries/${delivery.id}/redeliver`, {});
          onRedelivered();
        })}>${busy ? 'Queuing…' : 'Redeliver'}<span class="visually-hidden"> ${delivery.eventType} ${delivery.id}</span></button>
      ${error ? html`<p class="field-errors" role="alert">${describeError(error)}</p>` : null}
    </td>
  </tr>`;
}

/** The hook's deliveries; while any is pending (or right after a test or redelivery) it re-reads every 1.5 s. */
function Deliveries({ hookId, kick }) {
  const deliveries = useLoad(() => api('GET', `/webhooks/${hookId}/deliveries`), [hookId]);
  const [polls, setPolls] = useState(0);
  // Older pages (keyset cursor), kept while the first page is re-read.
  const [older, setOlder] = useState({ items: [], cursor: undefined, started: false });
  const more = useAction();
  const first = deliveries.data || [];
  const seen = new Set(first.map((d) => d.id));
  const list = [...first, ...older.items.filter((d) => !seen.has(d.id))];
  const cursor = older.started ? older.cursor : deliveries.meta?.nextCursor;
  const pending = first.some((d) => d.status === 'pending');

  // A new request (test, redelivery) restarts the polling budget.
  useEffect(() => {
    if (kick) {
      setPolls(0);
      deliveries.reload();
    }
  }, [kick]);
  useEffect(() => {
    if (deliveries.loading || polls >= POLL_MAX) return undefined;
    if (!pending && !(kick && polls < 4)) return undefined;
    const timer = setTimeout(() => {
      setPolls((n) => n + 1);
      deliveries.reload();
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [deliveries.loading, deliveries.data, polls, kick]);

  async function loadOlder() {
    await more.run(async () => {
      const { data, meta } = await api('GET', `/webhooks/${hookId}/deliveries`, undefined, { cursor });
      setOlder({ items: [...older.items, ...(data || [])], cursor: meta?.nextCursor, started: true });
    });
  }

  return html`<section class="subcard stack-sm" aria-labelledby="deliveries-title" data-testid="deliveries">
    <div class="row row-between">
      <h3 id="deliveries-title">Deliveries</h3>
      <button type="button" class="button button-secondary" onClick=${deliveries.reload} disabled=${deliveries.loading}>Refresh</button>
    </div>
    <${Alert} error=${deliveries.error || more.error} />
    ${deliveries.data && !list.length ? html`<p class="muted">Nothing sent yet. Use “Send test” to try the endpoint.</p>` : null}
    ${
      list.length
        ? html`<div class="table-wrap"><table class="data" data-testid="deliveries-table" aria-busy=${deliveries.loading ? 'true' : 'false'}>
          <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th><th scope="col">Next attempt</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${list.map((d) => html`<${DeliveryRow} key=${d.id} hookId=${hookId} delivery=${d} onRedelivered=${deliveries.reload} />`)}</tbody>
        </table></div>`
        : null
    }
    ${cursor ? html`<div><button type="button" class="button button-secondary" onClick=${loadOlder} disabled=${more.busy}>${more.busy ? 'Loading…' : 'Load older deliveries'}</button></div>` : null}
  </section>`;
}

function ManageHook({ hook, onChanged, onDeleted, onClose }) {
  const resources = useEventResources();
  const [url, setUrl] = useState(hook.url);
  const [events, setEvents] = useState(hook.events || []);
  const [active, setActive] = useState(hook.active !== false);
  const [description, setDescription] = useState(hook.description || '');
  const [saved, setSaved] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [testNote, setTestNote] = useState('');
  const [kick, setKick] = useState(0);
  const [localError, setLocalError] = useState('');
  const save = useAction();
  const test = useAction();
  const del = useAction();
  const errors = fieldErrors(save.error);
  const headingRef = useRef(null);
  useEffect(() => headingRef.current?.focus(), [hook.id]);

  async function submit(event) {
    event.preventDefault();
    setSaved(false);
    setLocalError('');
    const body = {};
    const chosen = normalizeEvents(events, resources);
    if (url.trim() !== hook.url) body.url = url.trim();
    if (JSON.stringify(chosen) !== JSON.stringify(normalizeEvents(hook.events || [], resources))) body.events = chosen;
    if (active !== (hook.active !== false)) body.active = active;
    if (description.trim() !== (hook.description || '')) body.description = description.trim() || null;
    if (body.events && !body.events.length) return setLocalError('Pick at least one event.');
    if (!Object.keys(body).length) return setLocalError('Nothing changed.');
    await save.run(async () => {
      await api('PATCH', `/webhooks/${hook.id}`, body);
      setSaved(true);
      onChanged();
    });
  }

  return html`<section class="card stack" aria-labelledby="manage-hook-title" data-testid="manage-webhook">
    <div class="row row-between">
      <h2 id="manage-hook-title" tabindex="-1" ref=${headingRef}>Webhook <code>${hook.url}</code></h2>
      <button type="button" class="button button-secondary" onClick=${onClose}>Close</button>
    </div>
    ${hook.deactivatedAt && hook.active === false ? html`<${Alert} kind="warning">Deactivated <${Time} value=${hook.deactivatedAt} /> after a day of failed deliveries. Fix the receiver, then tick Active and save.<//>` : null}
    <form class="stack" onSubmit=${submit} data-testid="edit-webhook-form" aria-label="Edit webhook">
      ${saved ? html`<${Alert} kind="success">Webhook saved.<//>` : null}
      <${Alert} error=${save.error} />
      ${localError ? html`<${Alert} kind="error">${localError}<//>` : null}
      <${Field} label="Endpoint URL" type="url" name="edit-url" required maxlength="2048" spellcheck="false" value=${url} onInput=${(e) => setUrl(e.currentTarget.value)} errors=${errors.url} />
      <${Field} label="Description" name="edit-description" maxlength="500" value=${description} onInput=${(e) => setDescription(e.currentTarget.value)} errors=${errors.description} />
      <label class="check"><input type="checkbox" checked=${active} onChange=${(e) => setActive(e.currentTarget.checked)} data-testid="webhook-active" /> <span>Active (deliveries are sent)</span></label>
      <${EventPicker} events=${events} onChange=${setEvents} idPrefix="edit" />
      <div><${Submit} busy=${save.busy} busyText="Saving…" kind="secondary">Save changes<//></div>
    </form>
    <div class="subcard stack-sm">
      <h3>Try it</h3>
      ${testNote ? html`<${Alert} kind="success">${testNote}<//>` : null}
      <${Alert} error=${test.error} />
      <p class="muted">Sends a <code>webhook.test</code> event to this URL; it shows up under Deliveries.</p>
      <div><button type="button" class="button button-secondary" disabled=${test.busy} data-testid="send-test" onClick=${async () => {
        setTestNote('');
        const ok = await test.run(async () => {
          await api('POST', `/webhooks/${hook.id}/test`, {});
          return true;
        });
        if (ok) {
          setTestNote('Test event queued.');
          setKick((n) => n + 1);
        }
      }}>${test.busy ? 'Sending…' : 'Send test'}</button></div>
    </div>
    <${Deliveries} hookId=${hook.id} kick=${kick} />
    <div class="subcard stack-sm">
      <h3>Delete</h3>
      <${Alert} error=${del.error} />
      ${
        confirming
          ? html`<div class="row" role="group" aria-label="Confirm deleting this webhook">
            <span>Delete this webhook? Nothing more is sent to it.</span>
            <button type="button" class="button button-danger" disabled=${del.busy} data-testid="confirm-delete-webhook" onClick=${async () => {
              const ok = await del.run(async () => {
                await api('DELETE', `/webhooks/${hook.id}`);
                return true;
              });
              setConfirming(false);
              if (ok) onDeleted();
            }}>${del.busy ? 'Deleting…' : 'Yes, delete'}</button>
            <button type="button" class="button button-secondary" onClick=${() => setConfirming(false)}>Cancel</button>
          </div>`
          : html`<div><button type="button" class="button button-danger" onClick=${() => setConfirming(true)}>Delete webhook…</button></div>`
      }
    </div>
  </section>`;
}

export function WebhooksPage({ user }) {
  const hooks = useLoad(() => api('GET', '/webhooks'));
  const [created, setCreated] = useState(null);
  const [selectedId, setSelectedId] = useState(null);
  const [notice, setNotice] = useState('');
  const list = hooks.data || [];
  const selected = list.find((h) => h.id === selectedId) || null;

  return html`<div class="stack-lg">
    <${PageTitle} sub="Send CRM changes to your other systems as they happen, signed so the receiver can trust them.">Webhooks<//>
    ${user && !user.mfaEnabled ? html`<${Alert} kind="warning">Managing webhooks needs two-factor authentication on your account. <a href="#/security">Turn it on in Security settings</a>.<//>` : null}
    ${notice ? html`<${Alert} kind="success">${notice}<//>` : null}
    ${
      created
        ? html`<${CreatedHook} created=${created} onDone=${() => setCreated(null)} />`
        : html`<${CreateHookForm} onCreated=${(data) => {
            setNotice('');
            setCreated(data);
            hooks.reload();
          }} />`
    }
    <section class="card stack" aria-labelledby="hooks-title">
      <h2 id="hooks-title">Webhooks</h2>
      <${Alert} error=${hooks.error} />
      ${hooks.loading && !hooks.data ? html`<p class="muted" role="status">Loading webhooks…</p>` : null}
      ${hooks.data && !list.length ? html`<p class="muted">No webhooks yet.</p>` : null}
      ${
        list.length
          ? html`<div class="table-wrap"><table class="data" data-testid="webhooks-table">
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${list.map(
              (
                h,
              ) => html`<tr key=${h.id} data-testid="webhook-row" class=${h.id === selectedId ? 'row-selected' : undefined}>
                <th scope="row"><code class="wrap">${h.url}</code>${h.description ? html`<span class="muted block">${h.description}</span>` : null}</th>
                <td><ul class="chips">${(h.events || []).map((e) => html`<li><code>${e}</code></li>`)}</ul></td>
                <td><span class="badges">
                  ${h.active === false ? html`<span class="badge badge-neutral">Inactive</span>` : html`<span class="badge badge-ok">Active</span>`}
                  ${h.failingSince ? html`<span class="badge badge-warn" title=${`Failing since ${h.failingSince}`}>Failing</span>` : null}
                </span></td>
                <td><${Time} value=${h.createdAt} /></td>
                <td class="actions"><button type="button" class="button button-secondary" aria-expanded=${h.id === selectedId ? 'true' : 'false'}
                  onClick=${() => {
                    setNotice('');
                    setSelectedId(h.id === selectedId ? null : h.id);
                  }}>Manage<span class="visually-hidden"> ${h.url}</span></button></td>
              </tr>`,
            )}</tbody>
          </table></div>`
          : null
      }
    </section>
    ${
      selected
        ? html`<${ManageHook} key=${selected.id} hook=${selected} onChanged=${hooks.reload} onClose=${() => setSelectedId(null)}
          onDeleted=${async () => {
            setSelectedId(null);
            // The notice after the list no longer shows the hook, so it never stands beside the deleted row.
            await hooks.reload();
            setNotice('Webhook deleted.');
          }} />`
        : null
    }
  </div>`;
}
