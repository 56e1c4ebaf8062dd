import { GENESIS_HASH, auditLinkHash, canonicalJson } from './audit-chain';

describe('audit chain primitives', () => {
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('the hash covers every field and the previous hash', () => {
    const base = {
      id: '00000000-0000-4000-8000-000000000001',
      teamId: '00000000-0000-4000-8000-000000000002',
      seq: '1',
      action: 'CREATE' as const,
      resourceType: 'client' as const,
      resourceId: '00000000-0000-4000-8000-000000000003',
      userId: null,
      apiKeyId: null,
      ip: '127.0.0.1',
      userAgent: 'jest',
      oldValues: null,
      newValues: { firstName: 'Ada' },
      createdAt: '2024-05-01T10:00:00.123Z',
    };
    const h = auditLinkHash(GENESIS_HASH, base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(auditLinkHash(GENESIS_HASH, { ...base })).toBe(h);
    expect(auditLinkHash('1'.repeat(64), base)).not.toBe(h);
    expect(auditLinkHash(GENESIS_HASH, { ...base, newValues: { firstName: 'Eve' } })).not.toBe(h);
    expect(auditLinkHash(GENESIS_HASH, { ...base, seq: '2' })).not.toBe(h);
    expect(auditLinkHash(GENESIS_HASH, { ...base, ip: '10.0.0.1' })).not.toBe(h);
  });
});
