// The security events chart: stacked bars per hour and event type, drawn as inline SVG by our own code
// (no chart library, no inline styles: colours come from .series-N classes in styles.css).
import { html } from './vendor/htm-preact.js';
import { useId } from './ui.js';

export const MAX_SERIES = 7;
const HOUR = 3_600_000;

export function eventLabel(type) {
  if (type === 'other') return 'Other events';
  const text = String(type)
    .replace(/_/g, ' ')
    .replace(/\b(mfa|api|ip)\b/g, (w) => w.toUpperCase());
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function truncHour(ms) {
  return Math.floor(ms / HOUR) * HOUR;
}

/** A round axis maximum at or above `value` (1, 2, 5 × 10^n). */
export function niceMax(value) {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * Hourly buckets from `from` to `to` (every hour present, zeros where nothing happened) and the series shown:
 * the most frequent types, the rest folded into "other".
 */
export function buildSeries(eventsByHour, from, to) {
  const totals = new Map();
  const byHour = new Map();
  for (const { hour, counts } of eventsByHour || []) {
    byHour.set(truncHour(new Date(hour).getTime()), counts || {});
    for (const [type, n] of Object.entries(counts || {})) totals.set(type, (totals.get(type) || 0) + Number(n));
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = ranked.slice(0, ranked.length > MAX_SERIES ? MAX_SERIES - 1 : MAX_SERIES).map(([t]) => t);
  const folded = ranked.length > shown.length;
  const series = folded ? [...shown, 'other'] : shown;
  const end = truncHour(new Date(to || Date.now()).getTime());
  const start = from ? truncHour(new Date(from).getTime()) : end - 23 * HOUR;
  const buckets = [];
  for (let t = start; t <= end; t += HOUR) {
    const counts = byHour.get(t) || {};
    const values = series.map((s) =>
      s === 'other'
        ? Object.entries(counts)
            .filter(([type]) => !shown.includes(type))
            .reduce((sum, [, n]) => sum + Number(n), 0)
        : Number(counts[s] || 0),
    );
    buckets.push({ time: t, values, total: values.reduce((a, b) => a + b, 0) });
  }
  return {
    series,
    buckets,
    totals: series.map((s, i) => ({ type: s, total: buckets.reduce((sum, b) => sum + b.values[i], 0) })),
  };
}

function hourLabel(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function EventsChart({ eventsByHour, from, to }) {
  const titleId = useId('chart-title');
  const descId = useId('chart-desc');
  const { series, buckets, totals } = buildSeries(eventsByHour, from, to);
  const grand = totals.reduce((a, b) => a + b.total, 0);
  const width = 720;
  const height = 240;
  const margin = { top: 12, right: 8, bottom: 28, left: 40 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const yMax = niceMax(Math.max(1, ...buckets.map((b) => b.total)));
  const step = plotW / Math.max(1, buckets.length);
  const barW = Math.max(2, step * 0.72);
  const y = (v) => margin.top + plotH - (v / yMax) * plotH;
  const ticks = [0, yMax / 4, yMax / 2, (3 * yMax) / 4, yMax];
  const labelEvery = buckets.length > 12 ? 4 : 2;
  const summary = grand
    ? `${grand} security event${grand === 1 ? '' : 's'} in the last 24 hours. ` +
      totals.map((t) => `${eventLabel(t.type)}: ${t.total}`).join(', ') +
      `. Busiest hour: ${hourLabel(buckets.reduce((a, b) => (b.total > a.total ? b : a)).time)}.`
    : 'No security events in the last 24 hours.';

  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-labelledby=${`${titleId} ${descId}`} class="chart-svg" data-testid="events-chart">
      <title id=${titleId}>Security events per hour, last 24 hours, by type</title>
      <desc id=${descId}>${summary}</desc>
      ${ticks.map(
        (t) => html`<g class="chart-grid">
          <line x1=${margin.left} x2=${width - margin.right} y1=${y(t)} y2=${y(t)} />
          <text x=${margin.left - 6} y=${y(t) + 4} text-anchor="end">${Number.isInteger(t) ? t : t.toFixed(1)}</text>
        </g>`,
      )}
      ${buckets.map((b, i) => {
        let base = 0;
        const x = margin.left + i * step + (step - barW) / 2;
        return html`<g class="chart-bar">
          ${b.values.map((v, s) => {
            if (!v) return null;
            const top = y(base + v);
            const rect = html`<rect class=${`series-${s}`} x=${x} y=${top} width=${barW} height=${Math.max(1, y(base) - top)}>
              <title>${`${hourLabel(b.time)} · ${eventLabel(series[s])}: ${v}`}</title>
            </rect>`;
            base += v;
            return rect;
          })}
          ${i % labelEvery === 0 ? html`<text class="chart-axis" x=${x + barW / 2} y=${height - 8} text-anchor="middle">${hourLabel(b.time)}</text>` : null}
        </g>`;
      })}
      <line class="chart-baseline" x1=${margin.left} x2=${width - margin.right} y1=${y(0)} y2=${y(0)} />
    </svg>
    <figcaption>
      ${
        series.length
          ? html`<ul class="legend" aria-label="Legend">
            ${totals.map(
              (
                t,
                i,
              ) => html`<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" focusable="false"><rect class=${`series-${i}`} width="10" height="10" rx="2" /></svg>
                ${eventLabel(t.type)} <span class="muted">(${t.total})</span></li>`,
            )}
          </ul>`
          : html`<p class="muted">No security events in the last 24 hours.</p>`
      }
    </figcaption>
    ${
      grand
        ? html`<details class="chart-table">
          <summary>Show the numbers as a table</summary>
          <div class="table-wrap"><table>
            <caption class="visually-hidden">Security events per hour</caption>
            <thead><tr><th scope="col">Hour</th>${series.map((s) => html`<th scope="col">${eventLabel(s)}</th>`)}<th scope="col">Total</th></tr></thead>
            <tbody>
              ${buckets.filter((b) => b.total).map((b) => html`<tr><th scope="row">${hourLabel(b.time)}</th>${b.values.map((v) => html`<td>${v}</td>`)}<td>${b.total}</td></tr>`)}
            </tbody>
          </table></div>
        </details>`
        : null
    }
  </figure>`;
}
