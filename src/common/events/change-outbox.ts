import { type EntityManager } from 'typeorm';

/** What AuditService.withAudit tells the outbox about the change its statement makes. */
export interface OutboxChange {
  /** The audit action: CREATE, UPDATE, DELETE, RESTORE (PURGE and others emit nothing). */
  action: string;
  /** The audit resource type (client, lead, …); only CRM records emit events. */
  resourceType: string;
  teamId: string;
  /**
   * For an UPDATE, the SQL expression (over the CTE `changed`) of the changed fields' old values: the same
   * expression the audit row's old_values uses. Null otherwise.
   */
  previousSql: string | null;
  /** The SQL expression (over `changed`) of one changed record in API shape. */
  rowSql: string;
}

/**
 * The transactional outbox of record changes, as the audit writer sees it. The webhooks module provides the
 * implementation; audit (and any module that reports a domain event) depends only on this abstraction, so
 * neither imports the other. Everything written here commits or rolls back with the change it reports.
 */
export abstract class ChangeOutbox {
  /**
   * Extra CTEs for withAudit's one statement (each `name AS (…)`, joined and prefixed with `,\n`, or '' when
   * the change emits nothing). They read the CTE `changed` (the changed rows in API shape) and add their
   * parameters through `param`, which returns the placeholder.
   */
  abstract changeCtes(change: OutboxChange, param: (value: unknown) => string): string;

  /**
   * An event that is not a row change (`lead.converted`): stored, with a delivery per matching active hook of
   * the team, on `manager` (the caller's transaction). Nothing is stored when no hook wants it.
   */
  abstract emit(manager: EntityManager, teamId: string, type: string, data: Record<string, unknown>): Promise<void>;
}
