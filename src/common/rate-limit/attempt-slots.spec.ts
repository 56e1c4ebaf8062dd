import {
  type AttemptSlotsState,
  type SlotRules,
  failSlot,
  freshSlots,
  releaseSlot,
  reserveSlot,
} from './attempt-slots';
import { RateLimitStorage } from './rate-limit.storage';

const RULES: SlotRules = { max: 3, keepMs: 60_000 };
const LEASE_MS = 30_000;
const LOCK_MS = 600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

/** Reserves `n` slots at `now`; returns the state and what each reservation found. */
function reserveMany(state: AttemptSlotsState | undefined, n: number, now: number) {
  const kinds: string[] = [];
  let s = state;
  for (let i = 0; i < n; i++) {
    const r = reserveSlot(s, RULES, now, now + LEASE_MS);
    s = r.state;
    kinds.push(r.result.kind);
  }
  return { state: s!, kinds };
}

describe('attempt slots (an unknown email’s lockout)', () => {
  it('grants max slots; the next finds them busy (attempts in flight), not locked', () => {
    const { state, kinds } = reserveMany(undefined, 5, T0);
    expect(kinds).toEqual(['reserved', 'reserved', 'reserved', 'busy', 'busy']);
    expect(state).toMatchObject({ failures: 0, lockedUntil: 0, leases: [T0 + LEASE_MS, T0 + LEASE_MS, T0 + LEASE_MS] });
  });

  it('a failure turns its lease into a failure (no slot freed); the one reaching max locks, exactly once', () => {
    let { state } = reserveMany(undefined, 3, T0);
    const results = [];
    for (let i = 0; i < 3; i++) {
      const f = failSlot(state, RULES, T0 + 1, T0 + LEASE_MS, T0 + 1 + LOCK_MS);
      state = f.state;
      results.push(f.result);
      if (i < 2) expect(reserveSlot(state, RULES, T0 + 1, T0 + 1 + LEASE_MS).result.kind).toBe('busy');
    }
    expect(results).toEqual([
      { failures: 1, lockedUntil: 0, lockedNow: false },
      { failures: 2, lockedUntil: 0, lockedNow: false },
      { failures: 3, lockedUntil: T0 + 1 + LOCK_MS, lockedNow: true },
    ]);
    expect(state.leases).toEqual([]);
    expect(reserveSlot(state, RULES, T0 + 2, T0 + 2 + LEASE_MS).result).toEqual({
      kind: 'locked',
      lockedUntil: T0 + 1 + LOCK_MS,
    });
    // Kept at least until the lock ends.
    expect(state.expiresAt).toBe(T0 + 1 + LOCK_MS);
  });

  it('a release gives its slot back without counting', () => {
    const { state } = reserveMany(undefined, 3, T0);
    const released = releaseSlot(state, RULES, T0 + 1, T0 + LEASE_MS);
    expect(released).toMatchObject({ failures: 0, leases: [T0 + LEASE_MS, T0 + LEASE_MS] });
    expect(reserveSlot(released, RULES, T0 + 1, T0 + 1 + LEASE_MS).result.kind).toBe('reserved');
  });

  it('an expired lease (a process that died mid-check) no longer holds its slot', () => {
    const { state } = reserveMany(undefined, 3, T0);
    expect(reserveSlot(state, RULES, T0 + LEASE_MS - 1, T0 + 2 * LEASE_MS).result.kind).toBe('busy');
    const later = reserveSlot(state, RULES, T0 + LEASE_MS, T0 + 2 * LEASE_MS);
    expect(later.result.kind).toBe('reserved');
    expect(later.state.leases).toEqual([T0 + 2 * LEASE_MS]);
  });

  it('a lock that ended restarts the count', () => {
    let state: AttemptSlotsState = { failures: 3, lockedUntil: T0 + LOCK_MS, leases: [], expiresAt: T0 + LOCK_MS };
    expect(reserveSlot(state, RULES, T0 + LOCK_MS - 1, T0 + LOCK_MS + LEASE_MS).result.kind).toBe('locked');
    // A record still held past the lock's end (say, by a lease): the ended lock restarts the count.
    state = { ...state, expiresAt: T0 + LOCK_MS + 1 };
    const r = reserveSlot(state, RULES, T0 + LOCK_MS, T0 + LOCK_MS + LEASE_MS);
    expect(r.result.kind).toBe('reserved');
    expect(r.state).toMatchObject({ failures: 0, lockedUntil: 0 });
  });

  it('failures left at or above a lowered max allow one more check, which locks if wrong', () => {
    const leftover: AttemptSlotsState = { failures: 7, lockedUntil: 0, leases: [], expiresAt: T0 + 60_000 };
    const r = reserveSlot(leftover, RULES, T0, T0 + LEASE_MS);
    expect(r.result.kind).toBe('reserved');
    expect(reserveSlot(r.state, RULES, T0, T0 + LEASE_MS).result.kind).toBe('busy');
    expect(failSlot(r.state, RULES, T0, T0 + LEASE_MS, T0 + LOCK_MS).result).toEqual({
      failures: 3,
      lockedUntil: T0 + LOCK_MS,
      lockedNow: true,
    });
  });

  it('failures are forgotten after keepMs of quiet', () => {
    const { state } = reserveMany(undefined, 1, T0);
    const failed = failSlot(state, RULES, T0, T0 + LEASE_MS, T0 + LOCK_MS).state;
    expect(failed.failures).toBe(1);
    expect(releaseSlot(failed, RULES, T0 + 60_000 - 1, 0).failures).toBe(1);
    expect(releaseSlot(failed, RULES, T0 + 60_000, 0)).toMatchObject({ ...freshSlots(), expiresAt: T0 + 120_000 });
  });

  it('equal leases: each settle removes one of them', () => {
    const { state } = reserveMany(undefined, 2, T0);
    const once = releaseSlot(state, RULES, T0, T0 + LEASE_MS);
    expect(once.leases).toEqual([T0 + LEASE_MS]);
    expect(releaseSlot(once, RULES, T0, T0 + LEASE_MS).leases).toEqual([]);
  });
});

describe('RateLimitStorage (in process): the same rules through its lockout methods', () => {
  const storage = new RateLimitStorage();
  afterAll(() => storage.close());

  it('reserve, busy, fail, lock, and keys apart', async () => {
    const key = 'lockout:email:a';
    for (let i = 0; i < 3; i++)
      expect((await storage.reserveAttempt(key, RULES, T0, T0 + LEASE_MS)).kind).toBe('reserved');
    expect(await storage.reserveAttempt(key, RULES, T0, T0 + LEASE_MS)).toEqual({ kind: 'busy' });
    expect(await storage.reserveAttempt('lockout:email:b', RULES, T0, T0 + LEASE_MS)).toEqual({ kind: 'reserved' });
    await storage.releaseAttempt(key, RULES, T0, T0 + LEASE_MS);
    expect((await storage.reserveAttempt(key, RULES, T0, T0 + LEASE_MS)).kind).toBe('reserved');
    const fails = [];
    for (let i = 0; i < 3; i++) fails.push(await storage.failAttempt(key, RULES, T0 + 5, T0 + LEASE_MS, T0 + LOCK_MS));
    expect(fails.map((f) => f.lockedNow)).toEqual([false, false, true]);
    expect(await storage.reserveAttempt(key, RULES, T0 + 6, T0 + LEASE_MS)).toEqual({
      kind: 'locked',
      lockedUntil: T0 + LOCK_MS,
    });
    // Moving the caller's clock past the lock ends it (the storage keeps no time of its own).
    expect((await storage.reserveAttempt(key, RULES, T0 + LOCK_MS, T0 + LOCK_MS + LEASE_MS)).kind).toBe('reserved');
  });
});
