// The team's last 24 hours (admins): metric cards, events per hour by type, recent high/critical events.
import { html } from '../vendor/htm-preact.js';
import { api } from '../api.js';
import { EventsChart, eventLabel } from '../chart.js';
import { Alert, PageTitle, Time, shortId, useLoad } from '../ui.js';

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

const CARDS = [
  ['loginAttempts', 'Login attempts'],
  ['successfulLogins', 'Successful logins'],
  ['failedLogins', 'Failed logins', 'warn'],
  ['lockouts', 'Account lockouts', 'warn'],
  ['tokenRefreshes', 'Token refreshes'],
  ['theftDetections', 'Token theft detected', 'danger'],
  ['geoAnomalies', 'Geo anomalies', 'warn'],
  ['activeSessions', 'Active sessions'],
];

function MetricCard({ label, value, tone }) {
  const alarming = tone && Number(value) > 0;
  return html`<li class=${`metric${alarming ? ` metric-${tone}` : ''}`}>
    <span class="metric-label">${label}</span>
    <span class="metric-value">${value}</span>
  </li>`;
}

export function SeverityBadge({ severity }) {
  const tone = { critical: 'danger', high: 'warn', medium: 'info', low: 'neutral' }[severity] || 'neutral';
  return html`<span class=${`badge badge-${tone}`}>${severity}</span>`;
}

export function DashboardPage() {
  const dashboard = useLoad(() => api('GET', '/security/dashboard'));
  const d = dashboard.data;
  return html`<div class="stack-lg">
    <${PageTitle} sub="Your team's sign-in and security activity over the last 24 hours.">Security dashboard<//>
    <${Alert} error=${dashboard.error} />
    ${dashboard.loading && !d ? html`<p class="muted" role="status">Loading the dashboard…</p>` : null}
    ${
      d
        ? html`
        <section aria-labelledby="metrics-title">
          <h2 id="metrics-title" class="visually-hidden">Last 24 hours in numbers</h2>
          <ul class="metrics" data-testid="metrics">
            ${CARDS.map(([key, label, tone]) => html`<${MetricCard} label=${label} value=${d[key] ?? 0} tone=${tone} />`)}
            <${MetricCard} label="Average session length" value=${formatDuration(d.averageSessionDurationSeconds)} />
          </ul>
        </section>
        <section class="card stack" aria-labelledby="chart-section-title">
          <div class="row row-between">
            <h2 id="chart-section-title">Events over time</h2>
            <button type="button" class="button button-secondary" onClick=${dashboard.reload} disabled=${dashboard.loading}>${dashboard.loading ? 'Refreshing…' : 'Refresh'}</button>
          </div>
          <${EventsChart} eventsByHour=${d.eventsByHour} from=${d.from} to=${d.to} />
        </section>
        <section class="card stack" aria-labelledby="critical-title">
          <div class="row row-between">
            <h2 id="critical-title">Recent high and critical events</h2>
            <a href="#/events?severity=critical">All events</a>
          </div>
          ${
            d.recentCritical && d.recentCritical.length
              ? html`<div class="table-wrap"><table class="data" data-testid="recent-critical">
                <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Severity</th><th scope="col">IP</th><th scope="col">User</th></tr></thead>
                <tbody>
                  ${d.recentCritical.map(
                    (e) => html`<tr>
                      <td><${Time} value=${e.createdAt} /></td>
                      <td>${eventLabel(e.eventType)}</td>
                      <td><${SeverityBadge} severity=${e.severity} /></td>
                      <td>${e.ip || '—'}</td>
                      <td><code title=${e.userId || ''}>${shortId(e.userId)}</code></td>
                    </tr>`,
                  )}
                </tbody>
              </table></div>`
              : html`<p class="muted">Nothing high or critical in the last 24 hours.</p>`
          }
        </section>`
        : null
    }
  </div>`;
}
