/*
 * npm run security:check [-- --env-file FILE] [--url URL [--email E --password P]] [--min SCORE]
 *
 * Scores the effective configuration (the environment, or FILE) against the security plan's checklist, and
 * with --url also probes a running server (headers, login answers, the refresh cookie when credentials are
 * given). Prints a PASS/FAIL line per control and a score out of 10; exits 1 below --min (default 10).
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/app-config';
import { checkConfig, formatReport, probeServer, score } from './security-check/checks';
import { runScript } from './run-script';

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, name = '', raw = ''] = m;
    // A trailing comment after whitespace, as in .env.example.
    env[name] = raw.replace(/\s+#.*$/, '');
  }
  return env;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const envFile = arg('env-file');
  const env = envFile ? parseEnvFile(readFileSync(envFile, 'utf8')) : (process.env as Record<string, string>);
  // Never write generated development secrets while only inspecting a configuration.
  const config = loadConfig({ DATA_DIR: '/tmp/hearth-security-check', ...env });
  const results = checkConfig(config, env);
  const url = arg('url');
  if (url) results.push(...(await probeServer({ url, email: arg('email'), password: arg('password') })));
  const min = Number(arg('min') ?? 10);
  process.stdout.write(
    `Hearth CRM security check${envFile ? ` (${envFile})` : ''}${url ? ` against ${url}` : ''}\n\n${formatReport(results)}\n`,
  );
  return score(results) >= min ? 0 : 1;
}

if (require.main === module) {
  runScript('security:check', main);
}
