/**
 * The one source of "now" for rules that depend on time (lockout windows, session idle and absolute limits,
 * reminders, retention, risk windows). Injected by its class; production uses the system clock, tests pass a
 * `ManualClock` to `createApp` and move it instead of sleeping or back-dating rows.
 *
 * SQL that compares against time takes the value as a parameter (`$n::timestamptz`) from `now()`, never the
 * database's own `now()`, so both sides of a rule read the same clock.
 */
export abstract class Clock {
  abstract now(): Date;

  nowMs(): number {
    return this.now().getTime();
  }
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }

  override nowMs(): number {
    return Date.now();
  }
}

/** A clock that runs with real time from an offset the test sets (so timeouts in libraries still move). */
export class ManualClock extends Clock {
  private offsetMs = 0;
  private frozenAt: number | null = null;

  now(): Date {
    return new Date(this.nowMs());
  }

  override nowMs(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Moves time forward (or back with a negative value). */
  advance(ms: number): void {
    if (this.frozenAt !== null) this.frozenAt += ms;
    else this.offsetMs += ms;
  }

  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }

  /** Stops time at its current value (or at `at`) until `resume()`. */
  freeze(at?: Date): void {
    this.frozenAt = at ? at.getTime() : this.nowMs();
  }

  resume(): void {
    if (this.frozenAt !== null) this.offsetMs = this.frozenAt - Date.now();
    this.frozenAt = null;
  }
}
