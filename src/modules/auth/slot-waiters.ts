/**
 * In-process wake-ups, so a request waiting for a slot asks again the moment one may be free instead of at its
 * next poll: a refund or release wakes the longest waiter, which passes the baton on if it got a slot (a refund
 * may have freed several); a lock wakes everyone (they all answer 423). Polling stays the fallback for slots
 * freed by other instances or by expired leases. Each settled check also marks progress on its key: waiters are
 * patient while the checks ahead of them keep finishing, however slow a loaded machine makes each one.
 */
export class SlotWaiters {
  private readonly keys = new Map<string, { waiters: Set<() => void>; progressAt: number; members: number }>();

  /** A request starts waiting for a slot of `key` (until `leave`): progress on the key is noted meanwhile. */
  join(key: string): void {
    const entry = this.keys.get(key) ?? { waiters: new Set<() => void>(), progressAt: 0, members: 0 };
    entry.members += 1;
    this.keys.set(key, entry);
  }

  leave(key: string): void {
    const entry = this.keys.get(key);
    if (entry && --entry.members <= 0) this.keys.delete(key);
  }

  /** Resolves after `ms`, or sooner when woken (between join and leave). */
  wait(key: string, ms: number): Promise<void> {
    const entry = this.keys.get(key);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        entry?.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      entry?.waiters.add(done);
    });
  }

  /** When a check on `key` last settled here while someone waited (0: not since they began). */
  progressAt(key: string): number {
    return this.keys.get(key)?.progressAt ?? 0;
  }

  /** A check on `key` settled: progress for its waiters, and the `wake` longest of them ask again now. */
  settled(key: string, wake: number): void {
    const entry = this.keys.get(key);
    if (entry) entry.progressAt = Date.now();
    this.wake(key, wake);
  }

  /** Wakes the `count` longest waiters for `key` (all by default). */
  wake(key: string, count = Infinity): void {
    let left = count;
    for (const done of [...(this.keys.get(key)?.waiters ?? [])]) {
      if (left-- <= 0) return;
      done();
    }
  }
}
