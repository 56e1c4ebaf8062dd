import { ipAllowed, normaliseIpRule } from './ip-allow-list';

describe('IP allow-lists', () => {
  it('normalises IPs and CIDRs and refuses anything else', () => {
    expect(normaliseIpRule(' 203.0.113.7 ')).toBe('203.0.113.7');
    expect(normaliseIpRule('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(normaliseIpRule('2001:db8::/32')).toBe('2001:db8:0:0:0:0:0:0/32');
    expect(normaliseIpRule('2001:db8::1')).toBe('2001:db8:0:0:0:0:0:1');
    for (const bad of ['10.0.0.0/33', 'example.com', '1.2.3', '', '::/129', "' OR 1=1"])
      expect(normaliseIpRule(bad)).toBeNull();
  });

  it('matches single addresses and ranges of the same family', () => {
    expect(ipAllowed('203.0.113.7', [])).toBe(true);
    expect(ipAllowed('203.0.113.7', ['203.0.113.7'])).toBe(true);
    expect(ipAllowed('203.0.113.8', ['203.0.113.7'])).toBe(false);
    expect(ipAllowed('10.20.30.40', ['10.0.0.0/8'])).toBe(true);
    expect(ipAllowed('11.0.0.1', ['10.0.0.0/8'])).toBe(false);
    expect(ipAllowed('::ffff:10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(ipAllowed('2001:db8::42', ['2001:db8::/32'])).toBe(true);
    expect(ipAllowed('2001:db9::42', ['2001:db8::/32'])).toBe(false);
    expect(ipAllowed('not-an-ip', ['0.0.0.0/0'])).toBe(false);
  });
});
