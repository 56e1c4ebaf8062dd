import { crmCatalogue } from '../resources/crm-catalogue';
import { isValidScope, roleAllows, scopesAllow } from './principal';

// Two fixture resources (the real ones are registered by the CRM module; its catalogue spec covers them).
const entry = (resource: string, auditType: string) => ({
  resource,
  auditType,
  webhookType: auditType,
  extraWebhookEvents: [],
  label: auditType,
  importable: false,
  dedupeKeys: [],
  timeline: false,
});

describe('permission model', () => {
  beforeAll(() => crmCatalogue.set([entry('deals', 'deal'), entry('notes', 'note')]));

  it('roles: admin everything, agent CRM read/write/delete, viewer CRM read', () => {
    expect(roleAllows('admin', 'users', 'write')).toBe(true);
    expect(roleAllows('agent', 'deals' as never, 'delete')).toBe(true);
    expect(roleAllows('agent', 'users', 'read')).toBe(false);
    expect(roleAllows('viewer', 'notes' as never, 'read')).toBe(true);
    expect(roleAllows('viewer', 'notes' as never, 'write')).toBe(false);
    expect(roleAllows('viewer', 'audit', 'read')).toBe(false);
    // A name nobody registered is no CRM resource: agents get nothing on it.
    expect(roleAllows('agent', 'invoices' as never, 'read')).toBe(false);
  });

  it('scopes: exact and wildcard, CRM resources only', () => {
    expect(scopesAllow(['deals:read'], 'deals', 'read')).toBe(true);
    expect(scopesAllow(['deals:read'], 'deals', 'write')).toBe(false);
    expect(scopesAllow(['*:read'], 'notes', 'read')).toBe(true);
    expect(scopesAllow(['*:read'], 'notes', 'delete')).toBe(false);
    expect(scopesAllow(['notes:*'], 'notes', 'delete')).toBe(true);
    expect(scopesAllow(['notes:*'], 'users', 'read')).toBe(false);
    expect(scopesAllow(['*:*'], 'audit', 'read')).toBe(false);
    expect(scopesAllow(['*:read'], 'security', 'read')).toBe(false);
  });

  it('valid scope names follow the registered resources', () => {
    expect(isValidScope('deals:read')).toBe(true);
    expect(isValidScope('*:write')).toBe(true);
    expect(isValidScope('notes:*')).toBe(true);
    expect(isValidScope('users:read')).toBe(false);
    expect(isValidScope('deals:admin')).toBe(false);
    expect(isValidScope('invoices:read')).toBe(false);
    crmCatalogue.set([entry('deals', 'deal'), entry('notes', 'note'), entry('invoices', 'invoice')]);
    expect(isValidScope('invoices:read')).toBe(true);
  });

  it("refuses a catalogue that reuses a name or takes another part's", () => {
    expect(() => crmCatalogue.set([entry('deals', 'deal'), entry('deals', 'other')])).toThrow(/twice/);
    expect(() => crmCatalogue.set([entry('users', 'member')])).toThrow(/reserved/);
    expect(() => crmCatalogue.set([entry('Deals', 'deal')])).toThrow(/lower-case/);
  });
});
