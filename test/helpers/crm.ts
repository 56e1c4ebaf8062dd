import { randomUUID } from 'node:crypto';
import { type Actor } from '../../src/common/security/principal';
import { verifyAuditChains } from '../../src/modules/audit/audit-verifier';
import { type TestApp } from './test-app';

/** A team row straight in the database (for service-level tests that need no signed-in user). */
export async function insertTeam(t: TestApp, name = 'Team'): Promise<string> {
  const [row] = await t.dataSource.query(`INSERT INTO teams (name) VALUES ($1) RETURNING id`, [name]);
  return row.id as string;
}

/** A user actor as the guards would build it from a bearer token. */
export function userActor(teamId: string, userId: string = randomUUID(), ip = '127.0.0.1'): Actor {
  return {
    principal: {
      kind: 'user',
      userId,
      teamId,
      role: 'admin',
      email: `${userId}@example.com`,
      sessionId: randomUUID(),
      authTime: Date.now(),
      mfaEnabled: false,
    },
    ip,
    userAgent: 'crm-e2e',
  };
}

/** An API-key actor as the api-key strategy would build it. */
export function apiKeyActor(teamId: string, apiKeyId: string = randomUUID(), scopes: string[] = ['*:*']): Actor {
  return {
    principal: { kind: 'apiKey', apiKeyId, teamId, scopes, name: 'integration', createdBy: null },
    ip: '10.1.2.3',
    userAgent: 'integration/1.0',
  };
}

/** The audit verifier over the test app's connection (table owner: sees every team). */
export function verifyChains(t: TestApp, teamId?: string) {
  return verifyAuditChains(async <T>(sql: string, params?: unknown[]) => await t.dataSource.query<T[]>(sql, params), {
    teamId,
  });
}

export async function auditRows(t: TestApp, teamId: string): Promise<any[]> {
  return t.dataSource.query(`SELECT * FROM audit_log WHERE team_id = $1 ORDER BY created_at, id`, [teamId]);
}
