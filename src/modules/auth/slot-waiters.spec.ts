import { SlotWaiters } from './slot-waiters';

/** A wait that records when (and whether) it ended. */
function track(w: SlotWaiters, key: string, ms: number) {
  const state = { done: false };
  const promise = w.wait(key, ms).then(() => {
    state.done = true;
  });
  return { state, promise };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SlotWaiters (in-process wake-ups of the lockout)', () => {
  it('wakes the longest waiters first, as many as asked; the rest keep waiting', async () => {
    const w = new SlotWaiters();
    for (let i = 0; i < 3; i++) w.join('k');
    const [a, b, c] = [track(w, 'k', 10_000), track(w, 'k', 10_000), track(w, 'k', 10_000)];
    w.wake('k', 1);
    await tick();
    expect([a.state.done, b.state.done, c.state.done]).toEqual([true, false, false]);
    w.wake('k');
    await Promise.all([b.promise, c.promise]);
    for (let i = 0; i < 3; i++) w.leave('k');
  });

  it('other keys are not woken; a wait ends on its own after its time', async () => {
    const w = new SlotWaiters();
    w.join('a');
    w.join('b');
    const a = track(w, 'a', 10_000);
    const b = track(w, 'b', 5);
    w.wake('a');
    await b.promise;
    await a.promise;
    expect(a.state.done && b.state.done).toBe(true);
    w.leave('a');
    w.leave('b');
  });

  it('settled notes progress only while someone waits on the key, and forgets it when the last one leaves', () => {
    const w = new SlotWaiters();
    w.settled('k', 0);
    expect(w.progressAt('k')).toBe(0);
    w.join('k');
    const before = Date.now();
    w.settled('k', 0);
    expect(w.progressAt('k')).toBeGreaterThanOrEqual(before);
    w.leave('k');
    expect(w.progressAt('k')).toBe(0);
  });
});
