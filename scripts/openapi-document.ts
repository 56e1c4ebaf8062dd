/**
 * The OpenAPI document GET /docs-json serves, built without a database and without listening.
 *
 *   ts-node --transpile-only scripts/openapi-document.ts [out.json]   writes the document (default: a temp file)
 *   ts-node --transpile-only scripts/openapi-document.ts --lint       writes it to a temp file and runs
 *                                                                      `redocly lint --extends=recommended` on it
 *
 * The app module is compiled in Nest's preview mode: the module graph, controllers and their metadata are
 * built, but no provider is instantiated, so nothing connects to Postgres or Redis. The swagger scanner only
 * reads that metadata. What createApp (src/app.factory.ts) does that changes the document is the global
 * prefix and its exclusions; they are repeated here, and `--compare <url>` checks this document against a
 * running instance's /docs-json.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../src/app.module';
import { loadConfig } from '../src/config/app-config';
import { SCANNER_DECOYS } from '../src/modules/honeypot/honeypot.controller';
import { buildOpenApiDocument } from '../src/openapi';

export async function buildDocumentWithoutDatabase(): Promise<OpenAPIObject> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-openapi-'));
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    // Never used (nothing is instantiated); set so that no development secrets are generated.
    JWT_SECRET: 'openapi-document-0123456789-abcdefghijklmnop',
    DATA_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
  });
  try {
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({ config, databaseUrl: config.database.url! }),
      new FastifyAdapter(),
      { preview: true, logger: false, abortOnError: false },
    );
    // As in createApp (src/app.factory.ts).
    app.setGlobalPrefix('v1', {
      exclude: ['health', 'health/ready', 'console', 'console/{*path}', ...SCANNER_DECOYS.map((p) => p.slice(1))],
    });
    return buildOpenApiDocument(app);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

async function main(argv: string[]): Promise<number> {
  const document = await buildDocumentWithoutDatabase();
  const compareIndex = argv.indexOf('--compare');
  if (compareIndex >= 0) {
    const url = argv[compareIndex + 1];
    if (!url) throw new Error('--compare needs the base URL of a running instance');
    const live: unknown = await (await fetch(new URL('/docs-json', url))).json();
    const same = stable(live) === stable(document);
    process.stdout.write(same ? 'identical to the served document\n' : 'DIFFERS from the served document\n');
    return same ? 0 : 1;
  }
  const lint = argv.includes('--lint');
  const out = argv.find((a) => !a.startsWith('--'));
  const tempDir = out ? undefined : mkdtempSync(join(tmpdir(), 'hearth-openapi-'));
  const file = out ? resolve(out) : join(tempDir!, 'openapi.json');
  writeFileSync(file, JSON.stringify(document, null, 2));
  if (!lint) {
    process.stdout.write(`${file}\n`);
    return 0;
  }
  try {
    const redocly = resolve(__dirname, '..', 'node_modules', '.bin', 'redocly');
    const result = spawnSync(redocly, ['lint', '--extends=recommended', file], {
      stdio: 'inherit',
      cwd: resolve(__dirname, '..'),
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    if (result.error) throw result.error;
    return result.status ?? 1;
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
