/**
 * The lockout's state for a key that has no row of its own (an email without an account), kept in the rate-limit
 * storage: the same rules as an account's (UsersRepository.reserveAttempt and its siblings), so an unknown email
 * answers exactly as a known one would.
 *
 * - `failures`: answers found wrong since the last reset (a lock that ended restarts the count).
 * - `lockedUntil`: set (ms) by the failure that reached `max`; 0 when not locked.
 * - `leases`: one expiry (ms) per attempt being checked right now. A reservation is granted only while
 *   failures + live leases < max, so at most `max` answers are checked before the lock; an expired lease no
 *   longer counts (a process that died mid-check cannot hold a slot for ever).
 *
 * Every time is the caller's (its Clock), never the storage's own. Pure functions here; the Redis script below
 * is the same logic, run atomically on the server.
 */
export interface AttemptSlotsState {
  failures: number;
  lockedUntil: number;
  leases: number[];
  /** When the record may be forgotten (ms): the lock's end, a live lease, or `keepMs` after the last change. */
  expiresAt: number;
}

export type SlotReservation = { kind: 'reserved' } | { kind: 'busy' } | { kind: 'locked'; lockedUntil: number };

export interface SlotFailure {
  failures: number;
  lockedUntil: number;
  /** This failure set the lock (exactly one per lock). */
  lockedNow: boolean;
}

export interface SlotRules {
  max: number;
  /** How long failures are remembered after the last change when nothing else holds the record. */
  keepMs: number;
}

export function freshSlots(): AttemptSlotsState {
  return { failures: 0, lockedUntil: 0, leases: [], expiresAt: 0 };
}

/** The state as seen at `now`: a forgotten record is fresh, expired leases are gone. */
function live(state: AttemptSlotsState | undefined, now: number): AttemptSlotsState {
  if (!state || state.expiresAt <= now) return freshSlots();
  return { ...state, leases: state.leases.filter((l) => l > now) };
}

function withExpiry(state: AttemptSlotsState, now: number, rules: SlotRules): AttemptSlotsState {
  return { ...state, expiresAt: Math.max(now + rules.keepMs, state.lockedUntil, ...state.leases) };
}

/** One occurrence of `lease` removed (two attempts may hold equal leases; each gives back one). */
function withoutLease(leases: number[], lease: number): number[] {
  const at = leases.indexOf(lease);
  return at < 0 ? leases : [...leases.slice(0, at), ...leases.slice(at + 1)];
}

export function reserveSlot(
  stored: AttemptSlotsState | undefined,
  rules: SlotRules,
  now: number,
  lease: number,
): { state: AttemptSlotsState; result: SlotReservation } {
  const state = live(stored, now);
  if (state.lockedUntil > now) return { state, result: { kind: 'locked', lockedUntil: state.lockedUntil } };
  // A lock that ended restarts the count; a count left at or above a lowered max allows one more check.
  const failures = state.lockedUntil ? 0 : Math.min(state.failures, rules.max - 1);
  if (failures + state.leases.length >= rules.max) return { state, result: { kind: 'busy' } };
  const next = { failures, lockedUntil: 0, leases: [...state.leases, lease], expiresAt: 0 };
  return { state: withExpiry(next, now, rules), result: { kind: 'reserved' } };
}

export function failSlot(
  stored: AttemptSlotsState | undefined,
  rules: SlotRules,
  now: number,
  lease: number,
  lockUntil: number,
): { state: AttemptSlotsState; result: SlotFailure } {
  const state = live(stored, now);
  const failures = state.failures + 1;
  const alreadyLocked = state.lockedUntil > now;
  const lockedNow = !alreadyLocked && failures >= rules.max;
  const lockedUntil = alreadyLocked ? state.lockedUntil : lockedNow ? lockUntil : 0;
  const next = { failures, lockedUntil, leases: withoutLease(state.leases, lease), expiresAt: 0 };
  return { state: withExpiry(next, now, rules), result: { failures, lockedUntil, lockedNow } };
}

export function releaseSlot(
  stored: AttemptSlotsState | undefined,
  rules: SlotRules,
  now: number,
  lease: number,
): AttemptSlotsState {
  const state = live(stored, now);
  return withExpiry({ ...state, leases: withoutLease(state.leases, lease) }, now, rules);
}

/**
 * The same three steps in Redis, atomically: a hash {f, l, e, p} (p: the leases, comma-separated).
 * KEYS[1] the record; ARGV: op (reserve|fail|release), now, max, keepMs, lease, lockUntil.
 * Returns {kind, failures, lockedUntil, lockedNow}: kind 1 reserved, 2 busy, 3 locked (reserve), 0 otherwise.
 */
export const ATTEMPT_SLOTS_SCRIPT = `
local op = ARGV[1]
local now = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local lockUntil = tonumber(ARGV[6])
local f, l, e, p = unpack(redis.call('HMGET', KEYS[1], 'f', 'l', 'e', 'p'))
f = tonumber(f) or 0
l = tonumber(l) or 0
e = tonumber(e) or 0
local leases = {}
if e <= now then
  f = 0
  l = 0
elseif p then
  for v in string.gmatch(p, '[^,]+') do
    local n = tonumber(v)
    if n > now then table.insert(leases, n) end
  end
end
local function drop(x)
  for i, v in ipairs(leases) do
    if v == x then table.remove(leases, i) return end
  end
end
local function save()
  local exp = now + keep
  if l > exp then exp = l end
  local parts = {}
  for _, v in ipairs(leases) do
    if v > exp then exp = v end
    table.insert(parts, string.format('%d', v))
  end
  redis.call('HSET', KEYS[1], 'f', f, 'l', string.format('%d', l), 'e', string.format('%d', exp), 'p', table.concat(parts, ','))
  redis.call('PEXPIRE', KEYS[1], math.max(1, exp - now))
end
if op == 'reserve' then
  if l > now then return {3, f, l, 0} end
  if l > 0 then f = 0 elseif f > max - 1 then f = max - 1 end
  if f + #leases >= max then return {2, f, l, 0} end
  l = 0
  table.insert(leases, lease)
  save()
  return {1, f, l, 0}
elseif op == 'fail' then
  drop(lease)
  f = f + 1
  local lockedNow = 0
  if l <= now then
    if f >= max then l = lockUntil; lockedNow = 1 else l = 0 end
  end
  save()
  return {0, f, l, lockedNow}
else
  drop(lease)
  save()
  return {0, f, l, 0}
end`;
