import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type PortRange, effectivePort, portAllowed } from '../../config/network-rules';

/**
 * Server-side request forgery guard for webhook targets. A hook's URL is chosen by a tenant admin, so the
 * server must never be made to call into its own network: loopback, private (RFC 1918, ULA), link-local,
 * carrier-grade NAT, cloud metadata, multicast and reserved addresses are refused, in every spelling
 * (IPv4-mapped and IPv4-compatible IPv6, NAT64, 6to4, decimal/hex IPv4 that the URL parser normalises).
 *
 * The check runs at create/update and again at every delivery, and the delivery connects to the address that
 * was checked (see PinnedTarget): a DNS answer that changes between check and connect (rebinding) cannot
 * redirect the request. Ports: only WEBHOOK_ALLOWED_PORTS (80, 443, 8080, 8443 by default), also when private
 * targets are allowed: a public host's SMTP, SSH or database port is no receiver, and with /test and /redeliver an
 * admin could otherwise probe any port of any host.
 */

type Range = readonly [base: bigint, prefix: number, reason: string];

function v4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** IPv4 ranges that are not globally reachable unicast (IANA special-purpose registry), with why. */
const V4_BLOCKED: readonly Range[] = [
  [v4('0.0.0.0'), 8, '"this network" (0.0.0.0/8)'],
  [v4('10.0.0.0'), 8, 'private (10.0.0.0/8)'],
  [v4('100.64.0.0'), 10, 'carrier-grade NAT (100.64.0.0/10)'],
  [v4('127.0.0.0'), 8, 'loopback (127.0.0.0/8)'],
  [v4('169.254.169.254'), 32, 'cloud metadata (169.254.169.254)'],
  [v4('169.254.0.0'), 16, 'link-local (169.254.0.0/16)'],
  [v4('172.16.0.0'), 12, 'private (172.16.0.0/12)'],
  [v4('192.0.0.0'), 24, 'IETF protocol assignments (192.0.0.0/24)'],
  [v4('192.0.2.0'), 24, 'documentation (192.0.2.0/24)'],
  [v4('192.88.99.0'), 24, '6to4 relay anycast (192.88.99.0/24)'],
  [v4('192.168.0.0'), 16, 'private (192.168.0.0/16)'],
  [v4('198.18.0.0'), 15, 'benchmarking (198.18.0.0/15)'],
  [v4('198.51.100.0'), 24, 'documentation (198.51.100.0/24)'],
  [v4('203.0.113.0'), 24, 'documentation (203.0.113.0/24)'],
  [v4('224.0.0.0'), 4, 'multicast (224.0.0.0/4)'],
  [v4('240.0.0.0'), 4, 'reserved (240.0.0.0/4, broadcast)'],
];

/** Parses an IPv6 address (zone id dropped, embedded dotted IPv4 allowed) into a 128-bit integer. */
export function parseIpv6(text: string): bigint | null {
  let address = text.replace(/%.*$/, '');
  if (isIP(address) !== 6) return null;
  // A trailing dotted IPv4 (::ffff:1.2.3.4) becomes its two hex words.
  address = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) => {
    const hi = (Number(a) << 8) | Number(b);
    const lo = (Number(c) << 8) | Number(d);
    return `${hi.toString(16)}:${lo.toString(16)}`;
  });
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const left = words(halves[0]!);
  const right = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const all = [...left, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...right];
  if (all.length !== 8 || all.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return null;
  return all.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
}

function inRange(value: bigint, bits: number, base: bigint, prefix: number): boolean {
  const shift = BigInt(bits - prefix);
  return value >> shift === base >> shift;
}

function v6(text: string): bigint {
  const value = parseIpv6(text);
  if (value === null) throw new Error(`bad IPv6 constant ${text}`);
  return value;
}

/** IPv6 ranges refused outright (inside 2000::/3 or not; anything outside 2000::/3 is refused too). */
const V6_BLOCKED: readonly Range[] = [
  [v6('fd00:ec2::254'), 128, 'cloud metadata (fd00:ec2::254)'],
  [v6('fc00::'), 7, 'unique local (fc00::/7)'],
  [v6('fe80::'), 10, 'link-local (fe80::/10)'],
  [v6('fec0::'), 10, 'site-local (fec0::/10)'],
  [v6('ff00::'), 8, 'multicast (ff00::/8)'],
  [v6('64:ff9b:1::'), 48, 'local-use NAT64 (64:ff9b:1::/48)'],
  [v6('100::'), 64, 'discard-only (100::/64)'],
  [v6('2001::'), 23, 'IETF protocol assignments, Teredo (2001::/23)'],
  [v6('2001:db8::'), 32, 'documentation (2001:db8::/32)'],
  [v6('3fff::'), 20, 'documentation (3fff::/20)'],
];

/** Why an IPv4 address (as an integer) must not be called, or null when it is public. */
function classifyV4(value: bigint): string | null {
  for (const [base, prefix, reason] of V4_BLOCKED) if (inRange(value, 32, base, prefix)) return reason;
  return null;
}

/**
 * Why `address` (an IPv4 or IPv6 literal) must not be called, or null when it is a public unicast address.
 * Anything that is not an IP literal is refused.
 */
export function classifyAddress(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return classifyV4(v4(bare));
  const value = parseIpv6(bare);
  if (value === null) return 'not an IP address';
  if (value === 0n) return 'unspecified (::)';
  if (value === 1n) return 'loopback (::1)';
  // IPv4 embedded in IPv6: judged as the IPv4 address it reaches.
  const low32 = value & 0xffffffffn;
  const embedded = (why: string) => {
    const reason = classifyV4(low32);
    return reason ? `${reason} via ${why}` : null;
  };
  if (inRange(value, 128, v6('::ffff:0:0'), 96)) return embedded('IPv4-mapped IPv6');
  if (inRange(value, 128, v6('::ffff:0:0:0'), 96)) return embedded('IPv4-translated IPv6');
  if (inRange(value, 128, 0n, 96)) return embedded('IPv4-compatible IPv6') ?? 'deprecated IPv4-compatible IPv6';
  if (inRange(value, 128, v6('64:ff9b::'), 96)) return embedded('NAT64');
  if (inRange(value, 128, v6('2002::'), 16)) {
    const reason = classifyV4((value >> 80n) & 0xffffffffn);
    return reason ? `${reason} via 6to4` : null;
  }
  for (const [base, prefix, reason] of V6_BLOCKED) if (inRange(value, 128, base, prefix)) return reason;
  if (!inRange(value, 128, v6('2000::'), 3)) return 'reserved IPv6 (outside 2000::/3)';
  return null;
}

export class TargetRefused extends Error {}

export interface TargetPolicy {
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: skip the address rule (local development and tests only). */
  allowPrivate: boolean;
  /** Production: https only. */
  httpsOnly: boolean;
  /** WEBHOOK_ALLOWED_PORTS: the only ports a target may use (explicit, or the scheme's default). */
  allowedPorts: readonly PortRange[];
}

/** A URL that passed the rules, and the address it must be called on. */
export interface PinnedTarget {
  url: URL;
  /** The vetted address (the connection goes there, whatever DNS says later). */
  address: string;
  family: 4 | 6;
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** The URL rules that need no DNS: parse, scheme, no credentials. Throws TargetRefused with the reason. */
export function parseTargetUrl(raw: string, policy: Pick<TargetPolicy, 'httpsOnly' | 'allowedPorts'>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('url is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetRefused('url must be http(s)');
  if (policy.httpsOnly && url.protocol !== 'https:') throw new TargetRefused('url must use https');
  if (url.username || url.password) throw new TargetRefused('url must not contain credentials');
  if (!url.hostname) throw new TargetRefused('url has no host');
  const port = effectivePort(url);
  if (!portAllowed(port, policy.allowedPorts))
    throw new TargetRefused(`url port ${port} is not allowed (WEBHOOK_ALLOWED_PORTS)`);
  return url;
}

/**
 * Checks a target and picks the address to call: every address the host resolves to must be public (one
 * private answer is enough to refuse: the resolver, not us, would pick which one is used).
 */
export async function vetTarget(
  raw: string,
  policy: TargetPolicy,
  resolve: Resolver = systemResolver,
): Promise<PinnedTarget> {
  const url = parseTargetUrl(raw, policy);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let answers: { address: string; family: number }[];
  if (isIP(host)) answers = [{ address: host, family: isIP(host) }];
  else {
    try {
      answers = await resolve(host);
    } catch (err) {
      throw new TargetRefused(`url host does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (answers.length === 0) throw new TargetRefused('url host does not resolve');
  }
  if (!policy.allowPrivate) {
    for (const answer of answers) {
      const reason = classifyAddress(answer.address);
      if (reason) throw new TargetRefused(`url host resolves to a forbidden address: ${reason}`);
    }
  }
  const first = answers[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
