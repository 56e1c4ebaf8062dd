import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CRM_CATALOGUE } from './crm-catalogue';

const ROOT = join(__dirname, '..', '..', '..');

// ---------------------------------------------------------------------------------------- no hand lists

/** Every resource name the catalogue registers, plural and singular (route/scope, audit and webhook types). */
const NAMES = new Set(
  CRM_CATALOGUE.flatMap((e) => [e.definition.resource, e.definition.auditType, e.definition.webhookType]),
);

/**
 * The literals of `text` that list 3 or more of the resource names: an array `[…]`, an object `{…}` (names as
 * keys or values) or a union `'a' | 'b' | 'c'`. Only the group's own level counts (an array of objects that
 * each name one record, such as a definition's references, is not a list of names).
 */
export function handListsIn(text: string, names: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const count = (body: string) => {
    // The group's own items: nested groups out; an item starts the group or follows `,` or `|`.
    const flat = body.replace(/\{[^{}]*\}/g, ' ').replace(/\[[^[\]]*\]/g, ' ');
    const hits = new Set<string>();
    for (const m of flat.matchAll(/(?:^|[,|])\s*(?:(['"`])([a-z_]+)\1|([a-z_]+)\s*:)/g)) {
      const name = m[2] ?? m[3];
      if (name && names.has(name)) hits.add(name);
    }
    return hits.size;
  };
  for (const group of [/\[[^[\]]*\]/g, /\{[^{}]*\}/g])
    for (const m of text.matchAll(group)) if (count(m[0].slice(1, -1)) >= 3) found.push(m[0]);
  for (const m of text.matchAll(/(?:(['"])[a-z_]+\1\s*\|\s*){2,}(['"])[a-z_]+\2/g))
    if (count(m[0]) >= 3) found.push(m[0]);
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return ['node_modules', 'vendor', '__snapshots__'].includes(entry.name) ? [] : sources(path);
    return /\.(ts|js|html)$/.test(entry.name) ? [path] : [];
  });
}

describe('the CRM resource names are listed once (the catalogue)', () => {
  it('no file of src/ or console/ lists three or more of them by hand', () => {
    // This spec's own examples of what it looks for are the one exception.
    const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'console'))].filter((f) => f !== __filename);
    const offenders = files.flatMap((path) =>
      handListsIn(readFileSync(path, 'utf8'), NAMES).map(
        (list) => `${relative(ROOT, path).split(sep).join('/')}: ${list.replace(/\s+/g, ' ').slice(0, 120)}`,
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('recognises arrays, unions and objects of names, and not shorter lists or other words', () => {
    const names = new Set(['clients', 'client', 'leads', 'lead', 'tasks', 'task']);
    for (const list of [
      "const R = ['clients', 'leads', 'tasks'];",
      'export type T = "client" | "lead" | "task";',
      'const S = { clients: 1, leads: 2, tasks: 3 };',
      "const E = ['client', 'lead', 'task', 'user'].map(f);",
      "  'clients',\n  'leads',\n  'tasks',\n",
    ])
      expect([list, handListsIn(`[${list}]`, names).length > 0]).toEqual([list, true]);
    for (const other of [
      "const R = ['clients', 'leads'];",
      "[{ field: 'clientId', table: 'clients', noun: 'client' }, { field: 'leadId', table: 'leads', noun: 'lead' }, { table: 'tasks' }]",
      "example: ['clients:read', 'leads:write', 'tasks:*']",
      "'Timeline of clients, leads and tasks'",
    ])
      expect([other, handListsIn(other, names)]).toEqual([other, []]);
  });
});
