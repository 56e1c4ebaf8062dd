import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The README and docs/ are read by someone who cloned the repository and nothing else: every relative link and
 * every path written in code spans must stay inside it (no `../shared/…`, no absolute paths of a machine).
 */
const ROOT = resolve(__dirname, '..');

function markdownFiles(): string[] {
  const docs = existsSync(join(ROOT, 'docs'))
    ? readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => join('docs', f))
    : [];
  return ['README.md', 'SECURITY.md', ...docs].filter((f) => existsSync(join(ROOT, f)));
}

/** Relative link targets and path-like code spans that would resolve outside the repository. */
export function pathsOutside(file: string, text: string): string[] {
  const out: string[] = [];
  const links = [...text.matchAll(/\]\(([^)\s#]+)[^)]*\)/g)].map((m) => m[1]!);
  const spans = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!).filter((s) => s.includes('/'));
  for (const target of [...links, ...spans]) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, mailto:, …
    if (/^\/(home|work|tmp|Users|root|var|opt|etc|mnt)\//.test(target)) {
      out.push(target);
      continue;
    }
    if (!target.startsWith('../') && !target.startsWith('./')) continue;
    const at = relative(ROOT, resolve(ROOT, dirname(file), target));
    if (at.startsWith(`..${sep}`) || at === '..') out.push(target);
  }
  return out;
}

describe('documentation names no path outside the repository', () => {
  it.each(markdownFiles())('%s', (file) => {
    expect(pathsOutside(file, readFileSync(join(ROOT, file), 'utf8'))).toEqual([]);
  });

  it('recognises paths that leave the repository, and not those that stay', () => {
    expect(pathsOutside('README.md', 'The contract is `../shared/API.md`, also [here](../shared/API.md).')).toEqual([
      '../shared/API.md',
      '../shared/API.md',
    ]);
    const docs = [
      'Leaves: [it](../../API.md), `/work/shared/ARCHITECTURE.md`.',
      'Stays: [scaling](scaling.md), [readme](../README.md), `src/modules/crm/`, `/docs`, `/v1/auth/*`, [x](https://example.com).',
    ].join('\n');
    expect(pathsOutside('docs/x.md', docs)).toEqual(['../../API.md', '/work/shared/ARCHITECTURE.md']);
  });
});
