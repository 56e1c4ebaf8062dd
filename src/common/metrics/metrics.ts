import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Route label of a request no route matched (a scan, a typo): never the raw path. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** The methods Fastify routes; anything else is counted as OTHER (label values stay a fixed set). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A gauge read at scrape time gives up after this (an outage must not hang the scrape). */
export const SCRAPE_READ_TIMEOUT_MS = 2_000;

export type JobOutcome = 'success' | 'failure';

/**
 * The application's Prometheus instruments, on a registry of its own (several apps in one test process do not
 * share counters). Recording is always on and costs a counter increment; the request histogram, the process
 * defaults and the listener exist only with METRICS_PORT (MetricsModule).
 *
 * Label values are fixed sets: route patterns, status codes, event types, limiter and job names. Never a raw
 * path, an id or a user's input.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly requestDuration = new Histogram({
    name: 'hearth_http_request_duration_seconds',
    help: 'Time from the request arriving to the response sent, by method, matched route pattern and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly securityEvents = new Counter({
    name: 'hearth_security_events_total',
    help: 'Security events by type and severity (counted even when ENABLE_SECURITY_EVENT_LOGGING is off)',
    labelNames: ['type', 'severity'] as const,
    registers: [this.registry],
  });

  private readonly rateLimitRejections = new Counter({
    name: 'hearth_rate_limit_rejections_total',
    help: 'Requests answered 429 by a rate limiter (global, login, register, refresh, forgotPassword, health)',
    labelNames: ['limiter'] as const,
    registers: [this.registry],
  });

  private readonly signIns = new Counter({
    name: 'hearth_sign_ins_total',
    help: 'POST /v1/auth/login by outcome (success or the error code, lower case)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly jobRuns = new Counter({
    name: 'hearth_job_runs_total',
    help: 'Runs of scheduled jobs by job and outcome',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly jobDuration = new Histogram({
    name: 'hearth_job_duration_seconds',
    help: 'How long one run of a scheduled job took',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [this.registry],
  });

  private readonly jobLag = new Gauge({
    name: 'hearth_job_lag_seconds',
    help: "How late the job's last run started after it was due (the dispatcher: its oldest due delivery)",
    labelNames: ['job'] as const,
    registers: [this.registry],
  });

  private readonly jobLastSuccess = new Gauge({
    name: 'hearth_job_last_success_timestamp_seconds',
    help: "Unix time of the job's last successful run",
    labelNames: ['job'] as const,
    registers: [this.registry],
  });

  private readonly readFailures = new Counter({
    name: 'hearth_metrics_read_failures_total',
    help: 'Scrape-time gauge reads that failed or timed out (the gauge keeps its previous value)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  private defaultsCollected = false;

  /** Node.js process metrics (CPU, memory, event loop lag, GC): only when /metrics is served. */
  collectProcessDefaults(): void {
    if (this.defaultsCollected) return;
    this.defaultsCollected = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** One request; `route` is the matched pattern (`/v1/clients/:id`), undefined when nothing matched. */
  observeRequest(method: string, route: string | undefined, statusCode: number, elapsedMs: number): void {
    this.requestDuration.observe(
      {
        method: METHODS.has(method) ? method : 'OTHER',
        route: route ?? UNMATCHED_ROUTE,
        status_code: statusCode,
      },
      elapsedMs / 1000,
    );
  }

  securityEvent(type: string, severity: string): void {
    this.securityEvents.inc({ type, severity });
  }

  rateLimited(limiter: string): void {
    this.rateLimitRejections.inc({ limiter });
  }

  signIn(outcome: string): void {
    this.signIns.inc({ outcome });
  }

  jobRun(job: string, outcome: JobOutcome, durationSeconds: number, lagSeconds?: number): void {
    this.jobRuns.inc({ job, outcome });
    this.jobDuration.observe({ job }, durationSeconds);
    if (lagSeconds !== undefined) this.jobLag.set({ job }, Math.max(0, lagSeconds));
    if (outcome === 'success') this.jobLastSuccess.set({ job }, Date.now() / 1000);
  }

  /**
   * A gauge whose value is read when Prometheus scrapes (pool sizes, outbox depth). `read` answering undefined,
   * failing or taking longer than SCRAPE_READ_TIMEOUT_MS leaves the previous value (and counts a read failure).
   */
  scrapedGauge(name: string, help: string, read: () => number | undefined | Promise<number | undefined>): void {
    const failures = this.readFailures;
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          const value = await withTimeout(Promise.resolve(read()), SCRAPE_READ_TIMEOUT_MS);
          if (value !== undefined && Number.isFinite(value)) this.set(value);
        } catch {
          failures.inc({ source: name });
        }
      },
    });
  }

  /** The text Prometheus scrapes. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Several gauges fed by one query (the outbox's depth and age): the gauges of one scrape are collected together,
 * so they share the read in flight; the next scrape reads again.
 */
export function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    // Released once settled: every gauge of this scrape has taken the same promise by then.
    inFlight ??= read().finally(() => (inFlight = undefined));
    return inFlight;
  };
}
