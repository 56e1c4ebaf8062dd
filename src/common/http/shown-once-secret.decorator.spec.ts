import { withoutShownOnceSecrets } from './shown-once-secret.decorator';

describe('withoutShownOnceSecrets', () => {
  it('sets the named fields of data to null and keeps the rest', () => {
    const body = JSON.stringify({ success: true, data: { id: 'k1', key: 'hck_secret', prefix: 'hck_ab' } });
    const kept = withoutShownOnceSecrets(body, ['key']);
    expect(JSON.parse(kept!)).toEqual({ success: true, data: { id: 'k1', key: null, prefix: 'hck_ab' } });
    expect(kept).not.toContain('hck_secret');
  });

  it('keeps an error answer as it is (no data, no secret)', () => {
    const body = JSON.stringify({ success: false, error: { code: 'VALIDATION_ERROR', message: 'x' } });
    expect(withoutShownOnceSecrets(body, ['key'])).toBe(body);
  });

  it('refuses what it cannot vouch for: not JSON, or data that is not an object', () => {
    expect(withoutShownOnceSecrets('hck_secret', ['key'])).toBeNull();
    expect(withoutShownOnceSecrets(JSON.stringify({ data: ['hck_secret'] }), ['key'])).toBeNull();
    expect(withoutShownOnceSecrets(JSON.stringify({ data: 'hck_secret' }), ['key'])).toBeNull();
  });
});
