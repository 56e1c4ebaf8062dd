import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { Injectable } from '@nestjs/common';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
  cacheControl: string;
}

/** Only these kinds of file are served; anything else under console/ (dotfiles, sources, notes) is a 404. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Our own files are not content-hashed (no build step), so browsers revalidate them every time; the ETag makes
 * that a cheap 304. The vendored Preact+htm bundle only changes with `npm ci` of a new htm version: a day is fine.
 */
const REVALIDATE = 'no-cache';
const VENDOR_CACHE = 'public, max-age=86400';

/** The console's URL of the Preact + hooks + htm bundle (no bare imports, so the browser loads it as is). */
export const VENDOR_PATH = 'vendor/htm-preact.js';

/** The repository root: the nearest folder above this file with a package.json (works from src/ and dist/src/). */
export function findProjectRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}`);
    dir = parent;
  }
}

function vendorFile(): string {
  // htm's export map hides the file itself; its main entry sits in dist/, the standalone bundle in preact/.
  return join(dirname(require.resolve('htm')), '..', 'preact', 'standalone.module.js');
}

/**
 * Resolves /console/<path> to a file of the top-level console/ folder, refusing anything that could leave it:
 * `..` or `.` segments, dotfiles, backslashes, NUL, encoded separators, symlinks pointing outside, unknown types.
 */
@Injectable()
export class ConsoleAssets {
  readonly root: string;
  private readonly realRoot: string;
  private readonly cache = new Map<string, { mtimeMs: number; asset: ConsoleAsset }>();

  constructor(root?: string) {
    this.root = resolve(root ?? join(findProjectRoot(), 'console'));
    this.realRoot = existsSync(this.root) ? realpathSync(this.root) : this.root;
  }

  index(): ConsoleAsset | null {
    return this.load(join(this.root, 'index.html'), REVALIDATE);
  }

  /**
   * `rawPath` is the URL path after `/console/`, still percent-encoded (so an encoded `/` or `\` stays one
   * segment and is refused). null → 404.
   */
  find(rawPath: string): ConsoleAsset | null {
    if (rawPath === '') return this.index();
    const segments = rawPath.split('/');
    const decoded: string[] = [];
    for (const segment of segments) {
      let s: string;
      try {
        s = decodeURIComponent(segment);
      } catch {
        return null;
      }
      if (!s || s.startsWith('.') || /[\\/\0:]/.test(s) || s.length > 200) return null;
      decoded.push(s);
    }
    const relative = decoded.join('/');
    if (relative === VENDOR_PATH) return this.load(vendorFile(), VENDOR_CACHE);
    // The console routes by URL fragment; a typed path without an extension (/console/sessions) gets the app.
    if (!extname(relative)) return this.index();
    if (!CONTENT_TYPES[extname(relative).toLowerCase()]) return null;
    const file = resolve(this.root, ...decoded);
    if (!file.startsWith(this.root + sep)) return null;
    if (!existsSync(file)) return null;
    const real = realpathSync(file);
    if (!real.startsWith(this.realRoot + sep)) return null;
    return this.load(real, REVALIDATE);
  }

  private load(file: string, cacheControl: string): ConsoleAsset | null {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return null;
    }
    if (!stat.isFile()) return null;
    const hit = this.cache.get(file);
    if (hit && hit.mtimeMs === stat.mtimeMs) return hit.asset;
    const body = readFileSync(file);
    const asset: ConsoleAsset = {
      body,
      contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
      cacheControl,
    };
    this.cache.set(file, { mtimeMs: stat.mtimeMs, asset });
    return asset;
  }
}
