import { ManualClock, SystemClock } from './clock';

describe('Clock', () => {
  it('SystemClock reads real time', () => {
    const before = Date.now();
    const now = new SystemClock().nowMs();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('ManualClock moves forward by what the test says', () => {
    const clock = new ManualClock();
    const start = clock.nowMs();
    clock.advanceMinutes(31);
    expect(clock.nowMs() - start).toBeGreaterThanOrEqual(31 * 60_000);
    expect(clock.nowMs() - start).toBeLessThan(31 * 60_000 + 1000);
  });

  it('a frozen ManualClock stands still until resumed, then runs from there', () => {
    const clock = new ManualClock();
    const at = new Date('2030-01-01T00:00:00.000Z');
    clock.freeze(at);
    expect(clock.now().toISOString()).toBe(at.toISOString());
    clock.advance(1500);
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:01.500Z');
    clock.resume();
    expect(clock.nowMs() - Date.parse('2030-01-01T00:00:01.500Z')).toBeLessThan(1000);
  });
});
