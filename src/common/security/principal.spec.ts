import { VALID_SCOPE, roleAllows, scopesAllow } from './principal';

describe('permission model', () => {
  it('roles: admin everything, agent CRM read/write/delete, viewer CRM read', () => {
    expect(roleAllows('admin', 'users', 'write')).toBe(true);
    expect(roleAllows('agent', 'clients', 'delete')).toBe(true);
    expect(roleAllows('agent', 'users', 'read')).toBe(false);
    expect(roleAllows('viewer', 'leads', 'read')).toBe(true);
    expect(roleAllows('viewer', 'leads', 'write')).toBe(false);
    expect(roleAllows('viewer', 'audit', 'read')).toBe(false);
  });

  it('scopes: exact and wildcard', () => {
    expect(scopesAllow(['clients:read'], 'clients', 'read')).toBe(true);
    expect(scopesAllow(['clients:read'], 'clients', 'write')).toBe(false);
    expect(scopesAllow(['*:read'], 'escrows', 'read')).toBe(true);
    expect(scopesAllow(['*:read'], 'escrows', 'delete')).toBe(false);
    expect(scopesAllow(['leads:*'], 'leads', 'delete')).toBe(true);
    expect(scopesAllow(['leads:*'], 'users', 'read')).toBe(false);
    expect(scopesAllow(['*:*'], 'audit', 'read')).toBe(false);
    expect(scopesAllow(['*:read'], 'security', 'read')).toBe(false);
  });

  it('valid scope names', () => {
    expect(VALID_SCOPE.test('clients:read')).toBe(true);
    expect(VALID_SCOPE.test('*:write')).toBe(true);
    expect(VALID_SCOPE.test('activities:read')).toBe(true);
    expect(VALID_SCOPE.test('tasks:*')).toBe(true);
    expect(VALID_SCOPE.test('users:read')).toBe(false);
    expect(VALID_SCOPE.test('clients:admin')).toBe(false);
  });
});
