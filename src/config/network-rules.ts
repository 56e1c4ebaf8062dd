import ipaddr from 'ipaddr.js';

/**
 * Parsing and judging of the network-shaped settings: TRUST_PROXY's address list and WEBHOOK_ALLOWED_PORTS.
 * Functions return a reason (or throw a plain Error with one); loadConfig turns it into a ConfigError that names
 * the variable.
 */

/** proxy-addr's named ranges (what Fastify expands them to). */
const NAMED_RANGES: Record<string, string[]> = {
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  loopback: ['127.0.0.1/8', '::1/128'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

type Interval = [start: bigint, end: bigint];

function toBigInt(ip: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return ip.toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

function interval(ip: ipaddr.IPv4 | ipaddr.IPv6, prefix: number, bits: number): Interval {
  const size = 1n << BigInt(bits - prefix);
  const start = (toBigInt(ip) / size) * size;
  return [start, start + size - 1n];
}

/** Whether the intervals together cover [0, 2^bits - 1]. */
function coversAll(intervals: Interval[], bits: number): boolean {
  const sorted = [...intervals].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let next = 0n;
  for (const [start, end] of sorted) {
    if (start > next) return false;
    if (end + 1n > next) next = end + 1n;
  }
  return next >= 1n << BigInt(bits);
}

/**
 * What a TRUST_PROXY address list trusts, judged as Fastify's proxy-addr matches a hop's address: IPv4 hops
 * against IPv4 ranges and IPv4-mapped IPv6 ranges of /96 or longer (`::ffff:0.0.0.0/96` is every IPv4 address);
 * IPv6 hops (never IPv4-mapped: those are matched as IPv4) against the other IPv6 ranges.
 *
 * Returns `'every IPv4 address'` / `'every IPv6 address'` when the list, entries taken together, trusts a whole
 * family (`0.0.0.0/0`, `::/0`, `0.0.0.0/0.0.0.0`, `0.0.0.0/1,128.0.0.0/1`, `::ffff:0:0/96`, …): then any client
 * of that family can choose its own IP with X-Forwarded-For, exactly as with `true`. Null otherwise.
 * Throws (with the entry) on what proxy-addr would refuse at start-up, except a /0 prefix, which it refuses too
 * but whose meaning is clear: everything.
 */
export function trustProxyCatchAll(list: string): 'every IPv4 address' | 'every IPv6 address' | null {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .flatMap((e) => NAMED_RANGES[e] ?? [e]);
  const v4: Interval[] = [];
  const v6: Interval[] = [
    // IPv4-mapped hops are matched as IPv4, so no IPv6 hop lies here.
    interval(ipaddr.parse('::ffff:0:0'), 96, 128),
  ];
  for (const entry of entries) {
    const slash = entry.lastIndexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const rangeText = slash === -1 ? null : entry.slice(slash + 1);
    if (!ipaddr.isValid(address))
      throw new Error(`"${entry}" is not an IP address, a CIDR or loopback/linklocal/uniquelocal`);
    let ip = ipaddr.parse(address);
    if (rangeText === null && ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
      ip = (ip as ipaddr.IPv6).toIPv4Address();
    const bits = ip.kind() === 'ipv6' ? 128 : 32;
    let prefix: number | null;
    if (rangeText === null) prefix = bits;
    else if (/^\d+$/.test(rangeText)) prefix = Number(rangeText);
    else if (ip.kind() === 'ipv4' && ipaddr.IPv4.isValid(rangeText))
      prefix = ipaddr.IPv4.parse(rangeText).prefixLengthFromSubnetMask();
    else prefix = null;
    if (prefix === null || prefix < 0 || prefix > bits) throw new Error(`"${entry}" has an invalid prefix or netmask`);
    if (ip.kind() === 'ipv4') v4.push(interval(ip, prefix, 32));
    else if ((ip as ipaddr.IPv6).isIPv4MappedAddress()) {
      if (prefix >= 96) v4.push(interval((ip as ipaddr.IPv6).toIPv4Address(), prefix - 96, 32));
      // Shorter mapped ranges match no hop at all (proxy-addr's rule), hence add nothing.
    } else v6.push(interval(ip, prefix, 128));
  }
  if (coversAll(v4, 32)) return 'every IPv4 address';
  if (coversAll(v6, 128)) return 'every IPv6 address';
  return null;
}

/** Whether proxy-addr accepts every entry (it refuses a /0 prefix at start-up with a bare TypeError). */
export function trustProxyZeroPrefix(list: string): string | undefined {
  return list
    .split(',')
    .map((e) => e.trim())
    .find((e) => /\/(0+|0\.0\.0\.0)$/.test(e));
}

/** An inclusive range of TCP ports. */
export type PortRange = readonly [from: number, to: number];

/** "80,443,8080,8443" or with ranges "80,443,32768-60999" → ranges; throws on anything else. */
export function parsePortList(text: string): PortRange[] {
  const ranges = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part): PortRange => {
      const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
      if (!match) throw new Error(`"${part}" is not a port or a range of ports (e.g. 443 or 8000-8099)`);
      const from = Number(match[1]);
      const to = Number(match[2] ?? match[1]);
      if (from < 1 || to > 65535 || from > to) throw new Error(`"${part}" is outside 1-65535 or reversed`);
      return [from, to];
    });
  if (!ranges.length) throw new Error('must name at least one port');
  return ranges;
}

export function portAllowed(port: number, ranges: readonly PortRange[]): boolean {
  return ranges.some(([from, to]) => port >= from && port <= to);
}

/** The port a URL connects to: its explicit port, or its scheme's default. */
export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
