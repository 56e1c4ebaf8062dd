/*
 * The dependency rules of docs/architecture.json, checked on the import graph the TypeScript compiler sees:
 * every static import, re-export, `import x = require()`, dynamic `import()`, `require()`, `jest.mock()` and
 * `import('…')` type, resolved the way tsc resolves it. Used by dependency-rules.spec.ts (in `npm test`) and
 * runnable on its own: `npm run -s lint:deps` prints every violation and exits 1 when there is one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface PartRule {
  /** A folder (repository-relative, posix); the most specific folder wins. */
  path?: string;
  /** Or an explicit list of files. */
  files?: string[];
  /** Parts this one may import; `modules` means any feature module's public surface; `*` means every part. */
  mayImport: string[];
  /** With `*`: the parts still refused. */
  notImport?: string[];
  /** Only `*.spec.ts` files and `test/` may import this part (support code for unit specs). */
  onlyForSpecs?: boolean;
}

export interface ModuleRule {
  /** The feature modules this one may import. */
  uses: string[];
  /** Its public surface besides `<name>.module.ts`: paths relative to the module folder. */
  exports: string[];
}

export interface Allowance {
  from: string;
  to: string;
  why: string;
}

export interface DependencyRules {
  parts: Record<string, PartRule>;
  modules: { path: string; mayImport: string[]; list: Record<string, ModuleRule> };
  allow: Allowance[];
}

export interface Source {
  /** Repository-relative, posix separators. */
  path: string;
  text: string;
}

export interface ImportRef {
  specifier: string;
  line: number;
}

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  target: string;
  rule: string;
  message: string;
}

/** The part a file belongs to: a named part, or `modules/<name>` for a feature module. */
interface PartOf {
  name: string;
  module?: string;
}

export const REPO_ROOT = resolve(__dirname, '..');
export const RULES_FILE = 'docs/architecture.json';
/** The folders whose TypeScript the rules cover. */
export const SOURCE_ROOTS = ['src', 'test', 'migrations', 'scripts', 'bench'];

export function loadRules(root = REPO_ROOT): DependencyRules {
  return JSON.parse(readFileSync(join(root, RULES_FILE), 'utf8')) as DependencyRules;
}

const toPosix = (p: string): string => p.split(sep).join('/');

/** Every .ts file under the source roots (no node_modules, no build output). */
export function projectSources(root = REPO_ROOT): Source[] {
  const out: Source[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
        out.push({ path: toPosix(relative(root, full)), text: readFileSync(full, 'utf8') });
    }
  };
  for (const dir of SOURCE_ROOTS) if (existsSync(join(root, dir))) walk(join(root, dir));
  return out;
}

const stringArg = (node: ts.CallExpression): ts.StringLiteralLike | undefined => {
  const first = node.arguments[0];
  return first && ts.isStringLiteralLike(first) ? first : undefined;
};

/** The module specifiers a file names, parsed (not matched with a pattern), with their line numbers. */
export function importsOf(path: string, text: string): ImportRef[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: ImportRef[] = [];
  const add = (literal: ts.StringLiteralLike): void => {
    found.push({ specifier: literal.text, line: file.getLineAndCharacterOfPosition(literal.getStart(file)).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteralLike(node.moduleSpecifier)) add(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      if (ts.isStringLiteralLike(node.moduleReference.expression)) add(node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteralLike(arg.literal)) add(arg.literal);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const literal = stringArg(node);
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isJestModule =
        ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        callee.expression.text === 'jest' &&
        ['mock', 'doMock', 'requireActual', 'requireMock', 'unmock'].includes(callee.name.text);
      if (literal && (isImport || isRequire || isJestModule)) add(literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/**
 * Resolves imports as tsc does (the repository's compiler options: baseUrl, JSON modules), against the disk
 * plus `extra` files that exist only in memory (the spec's fabricated violations).
 */
export function importResolver(root = REPO_ROOT, extra: Source[] = []) {
  const tsconfig = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p)).config as
    { compilerOptions?: object } | undefined;
  const options = ts.convertCompilerOptionsFromJson(tsconfig?.compilerOptions ?? {}, root).options;
  const virtual = new Map(extra.map((s) => [join(root, s.path), s.text]));
  const host: ts.ModuleResolutionHost = {
    fileExists: (p) => virtual.has(p) || ts.sys.fileExists(p),
    readFile: (p) => virtual.get(p) ?? ts.sys.readFile(p),
    directoryExists: (p) => ts.sys.directoryExists?.(p) ?? (existsSync(p) && statSync(p).isDirectory()),
    realpath: (p) => ts.sys.realpath?.(p) ?? p,
    getCurrentDirectory: () => root,
  };
  const cache = ts.createModuleResolutionCache(root, (x) => x, options);
  /** Repository-relative target, `null` for a package (or a relative import that resolves nowhere: `undefined`). */
  return (specifier: string, fromPath: string): string | null | undefined => {
    const result = ts.resolveModuleName(specifier, join(root, fromPath), options, host, cache).resolvedModule;
    if (!result) return specifier.startsWith('.') ? undefined : null;
    if (result.isExternalLibraryImport || result.resolvedFileName.includes('/node_modules/')) return null;
    return toPosix(relative(root, result.resolvedFileName));
  };
}

const within = (file: string, folder: string): boolean => file === folder || file.startsWith(`${folder}/`);

export class DependencyChecker {
  constructor(private readonly rules: DependencyRules) {}

  partOf(file: string): PartOf | null {
    for (const [name, part] of Object.entries(this.rules.parts)) if (part.files?.includes(file)) return { name };
    const modules = this.rules.modules.path;
    if (within(file, modules)) {
      const name = file.slice(modules.length + 1).split('/')[0]!;
      if (file.split('/').length > modules.split('/').length + 1) return { name: `modules/${name}`, module: name };
    }
    let best: { name: string; length: number } | null = null;
    for (const [name, part] of Object.entries(this.rules.parts))
      if (part.path && within(file, part.path) && (!best || part.path.length > best.length))
        best = { name, length: part.path.length };
    return best ? { name: best.name } : null;
  }

  private surface(module: string): string[] {
    const rule = this.rules.modules.list[module];
    return [`${module}.module.ts`, ...(rule?.exports ?? [])];
  }

  /** Why `from` may not import `target`, or null when it may. */
  private refusal(from: string, target: string): { rule: string; message: string } | null {
    if (this.rules.allow.some((a) => a.from === from && a.to === target)) return null;
    const source = this.partOf(from);
    const dest = this.partOf(target);
    if (!source) return { rule: 'unassigned', message: `${from} belongs to no part of ${RULES_FILE}` };
    if (!dest) return { rule: 'unassigned', message: `${target} belongs to no part of ${RULES_FILE}` };
    if (source.name === dest.name) return null;

    const destPart = this.rules.parts[dest.name];
    if (destPart?.onlyForSpecs)
      return from.endsWith('.spec.ts') || source.name === 'test'
        ? null
        : {
            rule: 'only-for-specs',
            message: `${dest.name} is support code for unit specs: only *.spec.ts files and test/ may import it`,
          };

    const sourceRule = source.module ? { mayImport: this.rules.modules.mayImport } : this.rules.parts[source.name]!;
    const all =
      sourceRule.mayImport.includes('*') && !('notImport' in sourceRule && sourceRule.notImport?.includes(dest.name));
    const inSrc = within(from, 'src');

    if (dest.module) {
      if (source.module) {
        const uses = this.rules.modules.list[source.module]?.uses ?? [];
        if (!uses.includes(dest.module))
          return {
            rule: 'module-uses',
            message: `feature module ${source.module} may not import feature module ${dest.module} (its \`uses\`: ${uses.join(', ') || 'none'})`,
          };
      } else if (!all && !sourceRule.mayImport.includes('modules')) {
        return {
          rule: 'layer',
          message: `${source.name} may not import feature module ${dest.module} (${source.name} may import: ${sourceRule.mayImport.join(', ') || 'nothing'}); depend on an interface in src/common that the module provides`,
        };
      }
      // Tests and tools may reach into a module; code in src goes through its public surface.
      const inModule = target.slice(this.rules.modules.path.length + dest.module.length + 2);
      const surface = this.surface(dest.module);
      if (inSrc && !surface.includes(inModule))
        return {
          rule: 'public-surface',
          message: `${dest.module}/${inModule} is internal to feature module ${dest.module}; import its public surface (${surface.join(', ')})`,
        };
      return null;
    }

    if (all || sourceRule.mayImport.includes(dest.name)) return null;
    const rule =
      dest.name === 'test' ? 'no-test-imports' : dest.name === 'migrations' ? 'no-migration-imports' : 'layer';
    return {
      rule,
      message: `${source.module ? `feature module ${source.module}` : source.name} may not import ${dest.name} (may import: ${sourceRule.mayImport.join(', ') || 'nothing'})`,
    };
  }

  /** Every import of `sources` that breaks a rule. */
  check(sources: Source[], resolveImport = importResolver(REPO_ROOT, sources)): Violation[] {
    const violations: Violation[] = [];
    for (const source of sources) {
      if (!this.partOf(source.path)) {
        violations.push({
          file: source.path,
          line: 0,
          specifier: '',
          target: '',
          rule: 'unassigned',
          message: `${source.path} belongs to no part of ${RULES_FILE}`,
        });
        continue;
      }
      for (const ref of importsOf(source.path, source.text)) {
        const target = resolveImport(ref.specifier, source.path);
        if (target === null) continue;
        if (target === undefined) {
          violations.push({ file: source.path, ...ref, target: '?', rule: 'unresolved', message: 'does not resolve' });
          continue;
        }
        const refused = this.refusal(source.path, target);
        if (refused) violations.push({ file: source.path, ...ref, target, ...refused });
      }
    }
    return violations;
  }

  /** Mistakes in the rules themselves: unknown names, stale entries, a cycle between modules. */
  problems(root = REPO_ROOT): string[] {
    const out: string[] = [];
    const { parts, modules, allow } = this.rules;
    const partNames = new Set([...Object.keys(parts), 'modules', '*']);
    for (const [name, part] of [...Object.entries(parts), ['modules', modules] as const])
      for (const p of [...part.mayImport, ...(('notImport' in part && part.notImport) || [])])
        if (!partNames.has(p)) out.push(`${name}: unknown part "${p}"`);
    for (const [name, part] of Object.entries(parts)) {
      if (part.path && !existsSync(join(root, part.path))) out.push(`part ${name}: ${part.path} does not exist`);
      for (const f of part.files ?? []) if (!existsSync(join(root, f))) out.push(`part ${name}: ${f} does not exist`);
    }
    const folders = readdirSync(join(root, modules.path), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    for (const folder of folders) if (!modules.list[folder]) out.push(`src/modules/${folder} is not listed in modules`);
    for (const [name, rule] of Object.entries(modules.list)) {
      if (!folders.includes(name)) out.push(`module ${name} is listed but has no folder`);
      for (const dep of rule.uses) {
        if (!modules.list[dep]) out.push(`module ${name} uses unknown module ${dep}`);
        if (dep === name) out.push(`module ${name} uses itself`);
      }
      for (const file of this.surface(name))
        if (folders.includes(name) && !existsSync(join(root, modules.path, name, file)))
          out.push(`module ${name}: public file ${file} does not exist`);
    }
    for (const a of allow) {
      if (!a.why?.trim()) out.push(`allowance ${a.from} → ${a.to} gives no reason`);
      for (const f of [a.from, a.to])
        if (!existsSync(join(root, f))) out.push(`allowance names ${f}, which does not exist`);
    }
    const cycle = findCycle(Object.fromEntries(Object.entries(modules.list).map(([n, r]) => [n, r.uses])));
    if (cycle) out.push(`modules depend on each other in a cycle: ${cycle.join(' → ')}`);
    return out;
  }
}

/** A cycle in a dependency graph (as its path, first node repeated at the end), or null. */
export function findCycle(graph: Record<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph[node] ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of Object.keys(graph)) {
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

export function formatViolation(v: Violation): string {
  const where = v.line ? `${v.file}:${v.line}` : v.file;
  return v.specifier
    ? `${where} imports '${v.specifier}' (${v.target}): [${v.rule}] ${v.message}`
    : `${where}: [${v.rule}] ${v.message}`;
}

if (require.main === module) {
  const checker = new DependencyChecker(loadRules());
  const lines = [
    ...checker.problems().map((p) => `${RULES_FILE}: ${p}`),
    ...checker.check(projectSources()).map(formatViolation),
  ];
  for (const line of lines) console.log(line);
  console.log(lines.length ? `${lines.length} problem(s)` : 'dependency rules: no violations');
  process.exit(lines.length ? 1 : 0);
}
