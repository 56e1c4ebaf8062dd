import { type EmbeddedDatabase } from '../../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const db = (globalThis as Record<string, unknown>).__HEARTH_TEST_DB__ as EmbeddedDatabase | undefined;
  await db?.stop();
  (globalThis as Record<string, unknown>).__HEARTH_TEST_DB__ = undefined;
}
