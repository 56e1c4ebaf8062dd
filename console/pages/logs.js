// Two browsable logs for admins: the audit log (who changed what) and the security events log.
import { html, useState } from '../vendor/htm-preact.js';
import { api } from '../api.js';
import { eventLabel } from '../chart.js';
import { SeverityBadge } from './dashboard.js';
import { Alert, Field, PageTitle, Time, shortId, useLoad } from '../ui.js';
import { serverList, useClientConfig } from '../config.js';

const PAGE_SIZE = 25;

/** datetime-local value (local time) → ISO-8601 UTC, or undefined. */
export function toIso(local) {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Keyset pages: a stack of cursors so that "Previous" works too. */
function usePaged(path, filters) {
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const result = useLoad(
    () => api('GET', path, undefined, { ...filters, limit: PAGE_SIZE, cursor }),
    [JSON.stringify(filters), cursor],
  );
  return {
    ...result,
    page: cursors.length,
    next: () => result.meta?.nextCursor && setCursors([...cursors, result.meta.nextCursor]),
    previous: () => cursors.length > 1 && setCursors(cursors.slice(0, -1)),
    reset: () => setCursors([undefined]),
  };
}

function Pager({ paged, label }) {
  return html`<nav class="row pager" aria-label=${`${label} pages`}>
    <button type="button" class="button button-secondary" onClick=${paged.previous} disabled=${paged.page <= 1 || paged.loading}>Previous page</button>
    <span class="muted" aria-live="polite">Page ${paged.page}</span>
    <button type="button" class="button button-secondary" onClick=${paged.next} disabled=${!paged.meta?.nextCursor || paged.loading} data-testid="next-page">Next page</button>
  </nav>`;
}

function Select({ label, value, onChange, options, allLabel, format = (o) => o }) {
  return html`<${Field} label=${label} type="select" value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
    <option value="">${allLabel}</option>
    ${options.map((o) => html`<option value=${o}>${format(o)}</option>`)}
  <//>`;
}

function FilterForm({ initial, onApply, children, fields }) {
  const [draft, setDraft] = useState(initial);
  const set = (key) => (value) => setDraft({ ...draft, [key]: value });
  function submit(event) {
    event.preventDefault();
    onApply(draft);
  }
  function clear() {
    const empty = Object.fromEntries(Object.keys(draft).map((k) => [k, '']));
    setDraft(empty);
    onApply(empty);
  }
  return html`<form class="card filters" onSubmit=${submit} aria-label="Filters">
    ${fields(draft, set)}
    <div class="row filter-actions">
      <button type="submit" class="button button-primary">Apply filters</button>
      <button type="button" class="button button-secondary" onClick=${clear}>Clear</button>
    </div>
    ${children}
  </form>`;
}

function JsonBlock({ value }) {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

export function AuditLogPage() {
  // The resource types and actions the server's audit log records (config.json).
  const config = useClientConfig();
  const resourceTypes = serverList(config, 'auditResourceTypes');
  const [filters, setFilters] = useState({ resourceType: '', action: '', from: '', to: '' });
  const query = {
    resourceType: filters.resourceType,
    action: filters.action,
    from: toIso(filters.from),
    to: toIso(filters.to),
  };
  const paged = usePaged('/audit-log', query);
  const rows = paged.data || [];
  return html`<div class="stack-lg">
    <${PageTitle} sub="Every create, update and delete in your team, with who did it and from where.">Audit log<//>
    <${FilterForm} initial=${filters} onApply=${(f) => {
      setFilters(f);
      paged.reset();
    }} fields=${(d, set) => html`
      <${Select} label="Resource" value=${d.resourceType} onChange=${set('resourceType')} options=${resourceTypes} allLabel="All resources" format=${(o) => o.replace('_', ' ')} />
      <${Select} label="Action" value=${d.action} onChange=${set('action')} options=${serverList(config, 'auditActions')} allLabel="All actions" />
      <${Field} label="From" type="datetime-local" value=${d.from} onInput=${(e) => set('from')(e.currentTarget.value)} />
      <${Field} label="To" type="datetime-local" value=${d.to} onInput=${(e) => set('to')(e.currentTarget.value)} />`} />
    <section class="card stack" aria-labelledby="audit-title" aria-busy=${paged.loading ? 'true' : 'false'} data-testid="audit-results">
      <h2 id="audit-title" class="visually-hidden">Entries</h2>
      <${Alert} error=${paged.error} />
      ${paged.loading && !paged.data ? html`<p class="muted" role="status">Loading…</p>` : null}
      ${paged.data && !rows.length ? html`<p class="muted">No entries match.</p>` : null}
      ${
        rows.length
          ? html`<div class="table-wrap"><table class="data" data-testid="audit-table">
            <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">By</th><th scope="col">IP</th><th scope="col">Changes</th></tr></thead>
            <tbody>
              ${rows.map(
                (r) => html`<tr>
                  <td><${Time} value=${r.createdAt} /></td>
                  <td><span class=${`badge badge-${r.action === 'DELETE' ? 'danger' : r.action === 'CREATE' ? 'ok' : 'info'}`}>${r.action}</span></td>
                  <td>${String(r.resourceType || '').replace('_', ' ')} <code title=${r.resourceId || ''}>${shortId(r.resourceId)}</code></td>
                  <td>${r.apiKeyId ? html`API key <code title=${r.apiKeyId}>${shortId(r.apiKeyId)}</code>` : html`<code title=${r.userId || ''}>${shortId(r.userId)}</code>`}</td>
                  <td>${r.ip || r.ipAddress || '—'}</td>
                  <td>
                    <details>
                      <summary>View<span class="visually-hidden"> changes of ${r.resourceType} ${shortId(r.resourceId)}</span></summary>
                      <div class="grid-2 diff">
                        ${r.oldValues ? html`<div><h3>Before</h3><${JsonBlock} value=${r.oldValues} /></div>` : null}
                        ${r.newValues ? html`<div><h3>After</h3><${JsonBlock} value=${r.newValues} /></div>` : null}
                      </div>
                    </details>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
          : null
      }
      <${Pager} paged=${paged} label="Audit log" />
    </section>
  </div>`;
}

export function EventsPage({ params }) {
  const [filters, setFilters] = useState({
    eventType: params.get('eventType') || '',
    severity: params.get('severity') || '',
  });
  const paged = usePaged('/security-events', filters);
  const rows = paged.data || [];
  // The event types and severities the server records (config.json).
  const config = useClientConfig();
  return html`<div class="stack-lg">
    <${PageTitle} sub="Sign-ins, lockouts, denied requests, key usage and other security signals, newest first.">Security events<//>
    <${FilterForm} initial=${filters} onApply=${(f) => {
      setFilters(f);
      paged.reset();
    }} fields=${(d, set) => html`
      <${Select} label="Event type" value=${d.eventType} onChange=${set('eventType')} options=${serverList(config, 'securityEventTypes')} allLabel="All types" format=${eventLabel} />
      <${Select} label="Severity" value=${d.severity} onChange=${set('severity')} options=${serverList(config, 'severities')} allLabel="All severities" />`} />
    <section class="card stack" aria-labelledby="events-title" aria-busy=${paged.loading ? 'true' : 'false'} data-testid="events-results">
      <h2 id="events-title" class="visually-hidden">Events</h2>
      <${Alert} error=${paged.error} />
      ${paged.loading && !paged.data ? html`<p class="muted" role="status">Loading…</p>` : null}
      ${paged.data && !rows.length ? html`<p class="muted">No events match.</p>` : null}
      ${
        rows.length
          ? html`<div class="table-wrap"><table class="data" data-testid="events-table">
            <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Severity</th><th scope="col">IP</th><th scope="col">User</th><th scope="col">Details</th></tr></thead>
            <tbody>
              ${rows.map(
                (e) => html`<tr>
                  <td><${Time} value=${e.createdAt} /></td>
                  <td>${eventLabel(e.eventType)}</td>
                  <td><${SeverityBadge} severity=${e.severity} /></td>
                  <td>${e.ip || e.ipAddress || '—'}</td>
                  <td><code title=${e.userId || ''}>${shortId(e.userId)}</code></td>
                  <td>${
                    e.details && Object.keys(e.details).length
                      ? html`<details><summary>View<span class="visually-hidden"> details of ${eventLabel(e.eventType)}</span></summary><${JsonBlock} value=${e.details} /></details>`
                      : html`<span class="muted">—</span>`
                  }</td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
          : null
      }
      <${Pager} paged=${paged} label="Security events" />
    </section>
  </div>`;
}
