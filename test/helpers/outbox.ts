import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type TestApp } from './test-app';

export interface SentMail {
  file: string;
  raw: string;
  to: string;
  subject: string;
  /** The decoded text body. */
  text: string;
}

function decodeQuotedPrintable(s: string): string {
  return s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= / =?UTF-8?B?...?=), as nodemailer writes non-ASCII or long subjects. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([\w-]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

/** Messages the app wrote to DATA_DIR/outbox (no SMTP_URL), oldest first. */
export function readOutbox(t: TestApp): SentMail[] {
  const dir = join(t.dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((file) => {
      const raw = readFileSync(join(dir, file), 'utf8');
      const [folded = '', ...rest] = raw.split(/\r?\n\r?\n/);
      const head = folded.replace(/\r?\n[ \t]+/g, ' ');
      const header = (name: string) => decodeWords(new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1]?.trim() ?? '');
      let body = rest.join('\n\n');
      if (/quoted-printable/i.test(head)) body = decodeQuotedPrintable(body);
      return { file, raw, to: header('To'), subject: header('Subject'), text: body };
    });
}

/** Waits (briefly) for a message matching the predicate. */
export async function waitForMail(t: TestApp, match: (m: SentMail) => boolean, timeoutMs = 5000): Promise<SentMail> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = readOutbox(t).find(match);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no matching mail in the outbox');
}
