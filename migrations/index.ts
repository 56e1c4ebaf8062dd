import { Foundation1732300000000 } from './1732300000000-foundation';
import { Auth1732300001000 } from './1732300001000-auth';
import { MfaAndApiKeys1732300002000 } from './1732300002000-mfa-and-api-keys';
import { SecurityOperations1732300009000 } from './1732300009000-security-operations';
import { CrmResources1732400000000 } from './1732400000000-crm-resources';
import { AuditLog1732400001000 } from './1732400001000-audit-log';
import { AuditChainLanes1733100000000 } from './1733100000000-audit-chain-lanes';
import { TenantRlsEverywhere1733200000000 } from './1733200000000-tenant-rls-everywhere';
import { CrmAssignmentTrashVersion1733300000000 } from './1733300000000-crm-assignment-trash-version';
import { ActivitiesTasks1733300001000 } from './1733300001000-activities-tasks';
import { Webhooks1733300002000 } from './1733300002000-webhooks';
import { Idempotency1733300003000 } from './1733300003000-idempotency';
import { SearchIndex1733300004000 } from './1733300004000-search-index';
import { AuditLinkPerStatement1733300003100 } from './1733300003100-audit-link-per-statement';
import { DataKeyChecks1733400002900 } from './1733400002900-data-key-checks';
import { LeastPrivilegeApiRole1733400005000 } from './1733400005000-least-privilege-api-role';
import { LoginAttemptLeases1733400005400 } from './1733400005400-login-attempt-leases';
import { VoidUnkeyedBackupCodes1733400070000 } from './1733400070000-void-unkeyed-backup-codes';

/** Every migration, in order. New migrations are appended here (the runner does not glob). */
export const MIGRATIONS = [
  Foundation1732300000000,
  Auth1732300001000,
  MfaAndApiKeys1732300002000,
  SecurityOperations1732300009000,
  CrmResources1732400000000,
  AuditLog1732400001000,
  AuditChainLanes1733100000000,
  TenantRlsEverywhere1733200000000,
  CrmAssignmentTrashVersion1733300000000,
  ActivitiesTasks1733300001000,
  Webhooks1733300002000,
  Idempotency1733300003000,
  SearchIndex1733300004000,
  AuditLinkPerStatement1733300003100,
  DataKeyChecks1733400002900,
  LeastPrivilegeApiRole1733400005000,
  LoginAttemptLeases1733400005400,
  VoidUnkeyedBackupCodes1733400070000,
];
