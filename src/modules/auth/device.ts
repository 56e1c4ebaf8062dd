import { createHash } from 'node:crypto';
import { UAParser } from 'ua-parser-js';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string {
  const v = headers[name];
  return (Array.isArray(v) ? v.join(',') : (v ?? '')).trim();
}

/** A stable hash of what a browser says about itself: user agent, languages and client hints. */
export function deviceFingerprint(headers: Headers): string {
  const parts = ['user-agent', 'accept-language', 'sec-ch-ua', 'sec-ch-ua-platform', 'sec-ch-ua-mobile'].map((h) =>
    header(headers, h),
  );
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** "Chrome 120 on macOS", for the sessions list and mail. */
export function deviceLabel(userAgent: string | null | undefined): string {
  if (!userAgent) return 'Unknown device';
  const ua = new UAParser(userAgent).getResult();
  const browser = ua.browser.name ? `${ua.browser.name}${ua.browser.major ? ` ${ua.browser.major}` : ''}` : '';
  const os = ua.os.name ? `${ua.os.name}${ua.os.version ? ` ${ua.os.version.split('.')[0]}` : ''}` : '';
  if (browser && os) return `${browser} on ${os}`.slice(0, 120);
  if (browser || os) return (browser || os).slice(0, 120);
  return (userAgent.split(/[\s/]/)[0] ?? '').slice(0, 60) || 'Unknown device';
}
