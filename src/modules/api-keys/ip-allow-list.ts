import ipaddr from 'ipaddr.js';

/** Parses an IP or CIDR (v4 or v6) into a canonical string, or null when it is neither. */
/** Only dotted quads for IPv4 ("1.2.3" or "0x7f.1" are legal for inet_aton, and not what anyone means). */
function strictAddress(value: string): boolean {
  return value.includes(':') ? ipaddr.IPv6.isValid(value) : ipaddr.IPv4.isValidFourPartDecimal(value);
}

export function normaliseIpRule(rule: string): string | null {
  const value = rule.trim();
  try {
    if (value.includes('/')) {
      if (!strictAddress(value.split('/')[0] ?? '')) return null;
      const [addr, bits] = ipaddr.parseCIDR(value);
      return `${addr.toNormalizedString()}/${bits}`;
    }
    if (!strictAddress(value)) return null;
    return ipaddr.parse(value).toNormalizedString();
  } catch {
    return null;
  }
}

function parseClient(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    const addr = ipaddr.parse(ip.trim());
    // ::ffff:1.2.3.4 is 1.2.3.4 for matching purposes.
    return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()
      ? (addr as ipaddr.IPv6).toIPv4Address()
      : addr;
  } catch {
    return null;
  }
}

/** True when the allow-list is empty (no restriction) or the client IP is inside one of its entries. */
export function ipAllowed(clientIp: string, rules: string[]): boolean {
  if (rules.length === 0) return true;
  const client = parseClient(clientIp);
  if (!client) return false;
  return rules.some((rule) => {
    try {
      if (rule.includes('/')) {
        const [range, bits] = ipaddr.parseCIDR(rule);
        return range.kind() === client.kind() && client.match([range, bits] as never);
      }
      const single = ipaddr.parse(rule);
      return single.kind() === client.kind() && single.toNormalizedString() === client.toNormalizedString();
    } catch {
      return false;
    }
  });
}
