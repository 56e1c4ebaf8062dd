import { parsePortList } from '../../config/network-rules';
import { classifyAddress, parseIpv6, parseTargetUrl, TargetRefused, vetTarget } from './ssrf-guard';

describe('classifyAddress', () => {
  const refused = [
    // IPv4 special-purpose ranges, at their edges
    '0.0.0.0',
    '0.255.255.255',
    '10.0.0.0',
    '10.255.255.255',
    '100.64.0.0',
    '100.127.255.255',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.0.1',
    '169.254.169.254',
    '172.16.0.0',
    '172.31.255.255',
    '192.0.0.8',
    '192.0.2.1',
    '192.88.99.1',
    '192.168.0.1',
    '192.168.255.255',
    '198.18.0.1',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    // IPv6
    '::',
    '::1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    'fe80::1',
    'fe80::1%eth0',
    'febf:ffff::1',
    'fc00::1',
    'fd12:3456::1',
    'fd00:ec2::254',
    'fec0::1',
    'ff02::1',
    'ff05::1:3',
    '100::1',
    '2001:db8::1',
    '2001::1', // Teredo
    '3fff::1',
    '4000::1', // outside 2000::/3
    '::2', // IPv4-compatible, deprecated
    // IPv4-mapped, -compatible, NAT64 and 6to4 spellings of private addresses
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:0001',
    '::ffff:10.1.2.3',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:0:127.0.0.1',
    '::127.0.0.1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a00:1',
    '64:ff9b:1::1',
    '2002:7f00:1::1',
    '2002:c0a8:101::1',
    '2002:a9fe:a9fe::1',
  ];
  it.each(refused)('refuses %s', (address) => {
    expect(classifyAddress(address)).toEqual(expect.any(String));
  });

  const allowed = [
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255', // just below 10/8
    '11.0.0.0', // just above
    '100.63.255.255', // just below CGNAT
    '100.128.0.0', // just above
    '126.255.255.255',
    '128.0.0.1',
    '169.253.255.255',
    '169.255.0.1',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '2001:4860:4860::8888', // 2001:4860:: is outside 2001::/23
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ];
  it.each(allowed)('allows %s', (address) => {
    expect(classifyAddress(address)).toBeNull();
  });

  it('names the range', () => {
    expect(classifyAddress('169.254.169.254')).toMatch(/metadata/);
    expect(classifyAddress('::ffff:127.0.0.1')).toMatch(/loopback.*mapped/);
    expect(classifyAddress('fd00:ec2::254')).toMatch(/metadata/);
  });

  it('refuses what is not an address', () => {
    expect(classifyAddress('localhost')).toMatch(/not an IP/);
    expect(classifyAddress('1.2.3')).toMatch(/not an IP/);
    expect(classifyAddress('')).toMatch(/not an IP/);
  });
});

describe('parseIpv6', () => {
  it('expands every spelling to the same number', () => {
    const one = parseIpv6('::1');
    expect(one).toBe(1n);
    expect(parseIpv6('0:0:0:0:0:0:0:1')).toBe(1n);
    expect(parseIpv6('::ffff:1.2.3.4')).toBe(parseIpv6('::ffff:102:304'));
    expect(parseIpv6('1::')).toBe(1n << 112n);
    expect(parseIpv6('fe80::1%lo0')).toBe(parseIpv6('fe80::1'));
  });
  it('rejects non-IPv6', () => {
    expect(parseIpv6('1.2.3.4')).toBeNull();
    expect(parseIpv6('1:::2')).toBeNull();
    expect(parseIpv6('g::1')).toBeNull();
  });
});

const DEFAULT_PORTS = parsePortList('80,443,8080,8443');

describe('parseTargetUrl', () => {
  const dev = { httpsOnly: false, allowedPorts: DEFAULT_PORTS };
  it('refuses credentials, other schemes and garbage', () => {
    expect(() => parseTargetUrl('https://user:pass@example.com/', dev)).toThrow(/credentials/);
    expect(() => parseTargetUrl('https://user@example.com/', dev)).toThrow(/credentials/);
    expect(() => parseTargetUrl('ftp://example.com/', dev)).toThrow(TargetRefused);
    expect(() => parseTargetUrl('file:///etc/passwd', dev)).toThrow(TargetRefused);
    expect(() => parseTargetUrl('not a url', dev)).toThrow(TargetRefused);
  });
  it('wants https in production', () => {
    const production = { httpsOnly: true, allowedPorts: DEFAULT_PORTS };
    expect(() => parseTargetUrl('http://example.com/', production)).toThrow(/https/);
    expect(parseTargetUrl('https://example.com:8443/x', production).port).toBe('8443');
  });
  it('allows only WEBHOOK_ALLOWED_PORTS, the scheme default included, in every spelling of the port', () => {
    for (const url of [
      'https://93.184.215.14/',
      'http://93.184.215.14/',
      'https://example.com:443/',
      'http://a.example:8080/',
    ])
      expect(parseTargetUrl(url, dev)).toBeInstanceOf(URL);
    for (const url of [
      'https://93.184.215.14:25/',
      'https://93.184.215.14:025/',
      'http://93.184.215.14:22/',
      'https://example.com:6379/',
    ])
      expect(() => parseTargetUrl(url, dev)).toThrow(/port \d+ is not allowed/);
    // The parser's spelling of 443 (leading zero) is 443, the https default.
    expect(parseTargetUrl('https://example.com:0443/x', dev).port).toBe('');
    // http on 443 and https on 80 are still those ports.
    expect(parseTargetUrl('http://example.com:443/', dev).port).toBe('443');
    expect(() => parseTargetUrl('https://example.com:80/', { ...dev, allowedPorts: parsePortList('443') })).toThrow(
      /port 80/,
    );
    expect(
      parseTargetUrl('https://example.com:9000/', { ...dev, allowedPorts: parsePortList('443,9000-9100') }).port,
    ).toBe('9000');
  });
});

describe('vetTarget', () => {
  const policy = { allowPrivate: false, httpsOnly: false, allowedPorts: parsePortList('80,443,8080,8443,9999') };
  const resolver = (answers: Record<string, string[]>) => (host: string) => {
    const found = answers[host];
    if (!found) return Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    return Promise.resolve(found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };

  it('refuses IP literals in every spelling the URL parser accepts', async () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://2130706433/', // decimal 127.0.0.1
      'http://0x7f.1/',
      'http://017700000001/', // octal
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.5:8080/',
      'http://0/',
    ]) {
      await expect(vetTarget(url, policy, resolver({}))).rejects.toThrow(TargetRefused);
    }
  });

  it('refuses a host when any of its addresses is private, and pins a public one', async () => {
    const resolve = resolver({
      'mixed.example': ['93.184.216.34', '10.0.0.1'],
      'public.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
      localhost: ['127.0.0.1', '::1'],
    });
    await expect(vetTarget('https://mixed.example/', policy, resolve)).rejects.toThrow(/private/);
    await expect(vetTarget('http://localhost:9999/', policy, resolve)).rejects.toThrow(/loopback/);
    await expect(vetTarget('https://nowhere.example/', policy, resolve)).rejects.toThrow(/does not resolve/);
    const pinned = await vetTarget('https://public.example/hook', policy, resolve);
    expect(pinned).toMatchObject({ address: '93.184.216.34', family: 4 });
  });

  it('keeps the port rule when private targets are allowed', async () => {
    await expect(vetTarget('http://127.0.0.1:5432/', { ...policy, allowPrivate: true }, resolver({}))).rejects.toThrow(
      /port 5432/,
    );
  });

  it('allows private targets only when told to', async () => {
    const pinned = await vetTarget('http://127.0.0.1:9999/', { ...policy, allowPrivate: true }, resolver({}));
    expect(pinned).toMatchObject({ address: '127.0.0.1', family: 4 });
    await expect(
      vetTarget('http://u:p@127.0.0.1:9999/', { ...policy, allowPrivate: true }, resolver({})),
    ).rejects.toThrow(/credentials/);
  });
});
