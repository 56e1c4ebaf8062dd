import { milesBetween } from './geo';

describe('milesBetween', () => {
  it('measures known distances', () => {
    const london: [number, number] = [51.5074, -0.1278];
    const newYork: [number, number] = [40.7128, -74.006];
    expect(Math.round(milesBetween(london, newYork))).toBeGreaterThan(3400);
    expect(Math.round(milesBetween(london, newYork))).toBeLessThan(3500);
    expect(milesBetween(london, london)).toBe(0);
  });
});
