import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/app-config';
import { parseEnvFile } from './security-check';
import { checkConfig, formatReport, score } from './security-check/checks';

function evaluate(file: string) {
  const env = parseEnvFile(readFileSync(join(__dirname, 'security-check', file), 'utf8'));
  const results = checkConfig(loadConfig({ DATA_DIR: '/tmp/hearth-security-check-test', ...env }), env);
  return { results, failing: results.filter((r) => !r.pass).map((r) => r.id) };
}

describe('security:check', () => {
  it('scores the recommended production configuration 10/10', () => {
    const { results, failing } = evaluate('recommended-production.env');
    expect(failing).toEqual([]);
    expect(score(results)).toBe(10);
    expect(formatReport(results)).toContain('Score: 10/10');
  });

  it('warns, without lowering the score, when production runs with TRUST_PROXY unset', () => {
    const env = parseEnvFile(readFileSync(join(__dirname, 'security-check', 'recommended-production.env'), 'utf8'));
    delete env.TRUST_PROXY;
    const results = checkConfig(loadConfig({ DATA_DIR: '/tmp/hearth-security-check-test', ...env }), env);
    expect(results.find((r) => r.id === 'trust-proxy')).toMatchObject({ pass: false, warning: true });
    expect(score(results)).toBe(10);
    expect(formatReport(results)).toMatch(/WARN {2}trust-proxy .*TRUST_PROXY unset/);
  });

  it("names each failing control of the plan's starting point (1 h tokens, no rotation, no lockout)", () => {
    const { results, failing } = evaluate('before-upgrade.env');
    expect(failing).toEqual(
      expect.arrayContaining([
        'jwt-secret',
        'access-token-lifetime',
        'refresh-rotation',
        'theft-detection',
        'account-lockout',
        'rate-limiting',
        'csp',
        'cors',
        'database-tls',
      ]),
    );
    expect(score(results)).toBeLessThan(5);
    const report = formatReport(results);
    expect(report).toMatch(/FAIL {2}access-token-lifetime .* JWT_EXPIRATION=60 min/);
    expect(report).toContain('Failing: ');
  });

  it('parses .env files with comments and quotes', () => {
    expect(parseEnvFile("A=1\n# c\nB='self' data:   # trailing\nC=\n")).toEqual({ A: '1', B: "'self' data:", C: '' });
  });
});
