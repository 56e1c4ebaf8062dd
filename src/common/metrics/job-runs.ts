import { Injectable } from '@nestjs/common';
import { Metrics } from './metrics';

/**
 * When a run was due, for the lag:
 * - `cron`: our cron expressions fire at second 0 of a minute, so the run belongs to the minute it started in;
 * - `everyMs`: an interval job is due one interval after its previous run started (a pass that overran pushes
 *   the next one late; the first run is on time).
 */
export type JobSchedule = { cron: true } | { everyMs: number };

/**
 * The one way scheduled jobs report themselves (runs by outcome, duration, lag, last success), so every job's
 * figures mean the same thing. Jobs wrap their scheduled entry point: `jobs.run('name', schedule, () => work())`.
 */
@Injectable()
export class JobRuns {
  private readonly lastStart = new Map<string, number>();

  constructor(private readonly metrics: Metrics) {}

  /** Runs one pass, records it, and passes its result or error through. */
  async run<T>(job: string, schedule: JobSchedule, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const lagMs = started - this.dueAt(job, schedule, started);
    this.lastStart.set(job, started);
    const clock = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - clock) / 1e9;
    try {
      const result = await work();
      this.metrics.jobRun(job, 'success', seconds(), lagMs / 1000);
      return result;
    } catch (err) {
      this.metrics.jobRun(job, 'failure', seconds(), lagMs / 1000);
      throw err;
    }
  }

  /** For a job that times its own pass (the webhook dispatcher knows its lag from the deliveries it claims). */
  record(job: string, outcome: 'success' | 'failure', durationSeconds: number, lagSeconds?: number): void {
    this.metrics.jobRun(job, outcome, durationSeconds, lagSeconds);
  }

  private dueAt(job: string, schedule: JobSchedule, started: number): number {
    if ('cron' in schedule) return started - (started % 60_000);
    const previous = this.lastStart.get(job);
    return previous === undefined ? started : Math.min(started, previous + schedule.everyMs);
  }
}
