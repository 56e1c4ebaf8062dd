import { deviceFingerprint, deviceLabel } from './device';

describe('device', () => {
  const chromeMac =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

  it('labels a browser and OS', () => {
    expect(deviceLabel(chromeMac)).toBe('Chrome 120 on Mac OS 10');
    expect(deviceLabel('curl/8.5.0')).toBe('curl');
    expect(deviceLabel(undefined)).toBe('Unknown device');
  });

  it('fingerprints the same browser the same way and a different one differently', () => {
    const a = deviceFingerprint({ 'user-agent': chromeMac, 'accept-language': 'en-US' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(deviceFingerprint({ 'user-agent': chromeMac, 'accept-language': 'en-US' })).toBe(a);
    expect(deviceFingerprint({ 'user-agent': chromeMac, 'accept-language': 'fr-FR' })).not.toBe(a);
    expect(deviceFingerprint({ 'user-agent': 'curl/8.5.0' })).not.toBe(a);
  });
});
