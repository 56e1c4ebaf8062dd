import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';

export const ARTIFACTS_DIR = join(__dirname, '..', 'artifacts', 'console');

// Browser globals inside page.evaluate callbacks (the tsconfig has no DOM lib; these declarations stay in this module).

declare const document: any;
declare const window: any;

/** Debian's chromium (or CHROMIUM_PATH); null when the machine has none. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    Boolean,
  ) as string[];
  for (const path of candidates) if (existsSync(path)) return path;
  try {
    const found = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
    return found || null;
  } catch {
    return null;
  }
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

export interface PageProblems {
  /** console.error / console.warn messages and uncaught errors, with where they happened. */
  errors: string[];
  /** Content-Security-Policy violations reported by the page itself. */
  cspViolations: string[];
  /** Failed responses (status ≥ 400) the page received, "STATUS METHOD path". */
  failedResponses: string[];
}

/**
 * Records every console error or warning, uncaught exception, CSP violation and failed response of a page.
 * Chromium logs a failed fetch as a console error ("Failed to load resource: … 401"): those are collected
 * separately in failedResponses so a test can tell an expected API answer (a 401 MFA_REQUIRED) from a bug.
 */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], cspViolations: [], failedResponses: [] };
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = message.text();
    if (/Content[- ]Security[- ]Policy/i.test(text)) problems.cspViolations.push(text);
    else if (/^Failed to load resource: the server responded with a status of \d+/.test(text))
      return; // see failedResponses
    else
      problems.errors.push(`${message.type()}: ${text} (${message.location().url}:${message.location().lineNumber})`);
  });
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400)
      problems.failedResponses.push(
        `${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`,
      );
  });
  return problems;
}

/** Reports CSP violations from inside the page too (securitypolicyviolation events), before any script runs. */
export async function trackCspViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { __cspViolations: string[] };
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e: any) => {
      w.__cspViolations.push(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
}

export async function cspViolationsIn(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
