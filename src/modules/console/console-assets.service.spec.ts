import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleAssets, findProjectRoot } from './console-assets.service';

describe('ConsoleAssets', () => {
  let dir: string;
  let root: string;
  let assets: ConsoleAssets;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
    root = join(dir, 'console');
    mkdirSync(join(root, 'pages'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(root, 'app.js'), 'export {};');
    writeFileSync(join(root, 'pages', 'a b.js'), 'export const a = 1;');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    writeFileSync(join(root, 'notes.md'), '# not served');
    writeFileSync(join(dir, 'secret.js'), 'outside');
    symlinkSync(join(dir, 'secret.js'), join(root, 'link.js'));
    assets = new ConsoleAssets(root);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves index.html for the empty path and for extension-less paths', () => {
    expect(assets.find('')?.contentType).toBe('text/html; charset=utf-8');
    expect(assets.find('sessions')?.body.toString()).toContain('<title>x</title>');
    expect(assets.index()?.cacheControl).toBe('no-cache');
  });

  it('serves known file types with their content type, decoding percent-escapes inside a segment', () => {
    expect(assets.find('app.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(assets.find('pages/a%20b.js')?.body.toString()).toBe('export const a = 1;');
  });

  it.each([
    '../secret.js',
    '..%2fsecret.js',
    '%2e%2e/secret.js',
    'pages/../../secret.js',
    '.env',
    'pages//a%20b.js',
    'notes.md',
    'link.js',
    'app.js%00',
    '%E0%A4%A',
    'pages%5c..%5c..%5csecret.js',
  ])('refuses %s', (path) => {
    expect(assets.find(path)).toBeNull();
  });

  it('re-reads a file when it changes on disk, with a new ETag', () => {
    const first = assets.find('app.js')!;
    writeFileSync(join(root, 'app.js'), 'export const changed = true;');
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'app.js'), later, later);
    const second = assets.find('app.js')!;
    expect(second.body.toString()).toBe('export const changed = true;');
    expect(second.etag).not.toBe(first.etag);
  });

  it('finds the real console folder and the vendored Preact + htm bundle from the source tree', () => {
    const real = new ConsoleAssets();
    expect(real.root).toBe(join(findProjectRoot(), 'console'));
    expect(real.find('vendor/htm-preact.js')?.body.toString()).toContain('useState');
    expect(real.find('vendor/other.js')).toBeNull();
  });
});
