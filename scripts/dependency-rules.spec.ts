import {
  DependencyChecker,
  type DependencyRules,
  type Source,
  formatViolation,
  importResolver,
  importsOf,
  loadRules,
  projectSources,
} from './dependency-rules';

/** The rules of docs/architecture.json against the repository's own import graph. */
describe('dependency rules (docs/architecture.json)', () => {
  const rules = loadRules();
  const checker = new DependencyChecker(rules);

  /** Checks fabricated files (they exist only in memory; what they import is real). */
  const violationsOf = (...files: Source[]) => checker.check(files, importResolver(undefined, files));

  it('the rules file is consistent: known parts, every module folder listed, public files exist, no cycle', () => {
    expect(checker.problems()).toEqual([]);
  });

  it('no import in src, test, migrations, scripts or bench breaks a rule', () => {
    const sources = projectSources();
    expect(sources.length).toBeGreaterThan(200);
    expect(checker.check(sources).map(formatViolation)).toEqual([]);
  });

  it('fails, naming file, import and rule, when a common file imports a feature module', () => {
    const [violation, ...more] = violationsOf({
      path: 'src/common/security/fabricated.guard.ts',
      text: `import { Injectable } from '@nestjs/common';\n\nimport { CrmModule } from '../../modules/crm/crm.module';\nexport const x = CrmModule;\n`,
    });
    expect(more).toEqual([]);
    expect(violation).toMatchObject({
      file: 'src/common/security/fabricated.guard.ts',
      line: 3,
      specifier: '../../modules/crm/crm.module',
      target: 'src/modules/crm/crm.module.ts',
      rule: 'layer',
    });
    expect(formatViolation(violation!)).toBe(
      "src/common/security/fabricated.guard.ts:3 imports '../../modules/crm/crm.module' (src/modules/crm/crm.module.ts): " +
        '[layer] common may not import feature module crm (common may import: config, database); depend on an ' +
        'interface in src/common that the module provides',
    );
  });

  it('sees every way of importing: type-only, re-export, dynamic import, require, import type, jest.mock', () => {
    const text = [
      `import type { SecurityEventsService } from '../modules/security-events/security-events.service';`,
      `export { AuditService } from '../modules/audit/audit.service';`,
      `export const load = () => import('../modules/mfa/mfa.service');`,
      `const hasher = require('../modules/passwords/password-hasher.service');`,
      `type Repo = import('../modules/users/users.repository').UsersRepository;`,
      `jest.mock('../modules/notifications/mail.service');`,
      `import users = require('../modules/users/users.module');`,
    ].join('\n');
    const found = violationsOf({ path: 'src/database/fabricated.ts', text });
    expect(found.map((v) => [v.line, v.rule])).toEqual([
      [1, 'layer'],
      [2, 'layer'],
      [3, 'layer'],
      [4, 'layer'],
      [5, 'layer'],
      [6, 'layer'],
      [7, 'layer'],
    ]);
  });

  it('parses imports rather than matching text: strings and comments that look like imports are not imports', () => {
    const text = [
      `// import { CrmModule } from '../modules/crm/crm.module';`,
      `const sql = "import x from '../modules/crm/crm.module'";`,
      'const doc = `require("../modules/audit/audit.service")`;',
      `import { Clock } from '../common/time/clock';`,
    ].join('\n');
    expect(importsOf('src/x.ts', text)).toEqual([{ specifier: '../common/time/clock', line: 4 }]);
  });

  it("fails when a module reaches into another module's internal file, or imports one outside its `uses`", () => {
    const internal = violationsOf({
      path: 'src/modules/webhooks/fabricated.service.ts',
      text: `import { AuditChain } from '../audit/audit-verifier';\nimport { AuditService } from '../audit/audit.service';\n`,
    });
    expect(internal.map((v) => [v.line, v.rule, v.target])).toEqual([
      [1, 'public-surface', 'src/modules/audit/audit-verifier.ts'],
    ]);
    expect(internal[0]!.message).toContain('audit.module.ts, audit.service.ts');

    // users is below users-admin and CRM: it may not import either, even through their public surface.
    const upward = violationsOf({
      path: 'src/modules/users/fabricated.ts',
      text: `import { UsersAdminModule } from '../users-admin/users-admin.module';\nimport { CrmModule } from '../crm/crm.module';\n`,
    });
    expect(upward.map((v) => [v.line, v.rule])).toEqual([
      [1, 'module-uses'],
      [2, 'module-uses'],
    ]);
  });

  it('fails when src imports test/, when runtime code imports a migration, and when non-spec code imports testing support', () => {
    const found = violationsOf(
      {
        path: 'src/modules/crm/fabricated.spec.ts',
        text: `import { registerTeam } from '../../../test/helpers/auth';\n`,
      },
      {
        path: 'src/modules/crm/fabricated.ts',
        text: `import { TASK_DUE_SORT } from '../../../migrations/1733300001000-activities-tasks';\n`,
      },
      { path: 'src/database/fabricated.ts', text: `import { MIGRATIONS } from '../../migrations';\n` },
      {
        path: 'src/common/http/fabricated.ts',
        text: `import { controllerRoutes } from '../testing/controller-routes';\n`,
      },
      // Allowed: a spec may use the testing support, test/ may reach into a module.
      {
        path: 'src/common/http/fabricated.spec.ts',
        text: `import { controllerRoutes } from '../testing/controller-routes';\n`,
      },
      {
        path: 'test/fabricated.e2e-spec.ts',
        text: `import { CrmTrashPurge } from '../src/modules/crm/common/crm-trash-purge.service';\n`,
      },
    );
    expect(found.map((v) => [v.file, v.rule])).toEqual([
      ['src/modules/crm/fabricated.spec.ts', 'no-test-imports'],
      ['src/modules/crm/fabricated.ts', 'no-migration-imports'],
      ['src/database/fabricated.ts', 'no-migration-imports'],
      ['src/common/http/fabricated.ts', 'only-for-specs'],
    ]);
  });

  it('fails on a file that belongs to no part', () => {
    expect(violationsOf({ path: 'src/stray.ts', text: 'export const x = 1;\n' }).map((v) => v.rule)).toEqual([
      'unassigned',
    ]);
  });

  it('reports mistakes in the rules: a cycle between modules, an unknown module, a stale allowance', () => {
    const broken: DependencyRules = JSON.parse(JSON.stringify(rules)) as DependencyRules;
    broken.modules.list.users!.uses = ['users-admin'];
    broken.modules.list.audit!.uses = ['no-such-module'];
    broken.allow.push({ from: 'src/nowhere.ts', to: 'migrations/index.ts', why: 'stale' });
    expect(new DependencyChecker(broken).problems()).toEqual([
      'module audit uses unknown module no-such-module',
      'allowance names src/nowhere.ts, which does not exist',
      'modules depend on each other in a cycle: auth → users → users-admin → auth',
    ]);
  });
});
