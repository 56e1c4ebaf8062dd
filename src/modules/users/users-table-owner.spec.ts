import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * UsersRepository is the only code that writes the `users` table. This scans the server's sources (not specs,
 * not migrations) for raw SQL writing `users` and for any TypeORM handle on the User entity (a `Repository<User>`
 * can write, so holding one outside the owner counts), and fails naming the files that do it elsewhere.
 */
const SRC = join(__dirname, '..', '..');
const OWNER = ['modules', 'users', 'users.repository.ts'].join('/');

/** INSERT INTO / UPDATE / DELETE FROM / TRUNCATE / MERGE INTO users (optionally public., quoted, ONLY). */
const SQL_WRITE =
  /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO)\s+(?:ONLY\s+)?(?:"?public"?\.)?"?users"?(?![\w.])/i;
/** A TypeORM repository of User, or a manager/query-builder write naming the entity. */
const ENTITY_WRITE =
  /Repository<\s*User\s*>|getRepository\(\s*User\s*\)|InjectRepository\(\s*User\s*\)|\.(?:save|insert|update|upsert|delete|softDelete|restore|remove|increment|decrement|into|from)\(\s*User\b/;

function writesUsers(source: string): boolean {
  return SQL_WRITE.test(source) || ENTITY_WRITE.test(source);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' || entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('users table ownership', () => {
  const files = sources(SRC).map((path) => ({
    file: relative(SRC, path).split(sep).join('/'),
    text: readFileSync(path, 'utf8'),
  }));

  it('has only UsersRepository writing users', () => {
    const writers = files.filter((f) => writesUsers(f.text)).map((f) => f.file);
    expect(writers).toEqual([OWNER]);
  });

  it('recognises the ways of writing users, and not reads or other tables', () => {
    for (const write of [
      'INSERT INTO users (email) VALUES ($1)',
      'update users set role = $2 where id = $1',
      'UPDATE users u SET failed_login_attempts = 0',
      'DELETE FROM users WHERE id = $1',
      'UPDATE public.users SET disabled = true',
      'UPDATE "users" SET disabled = true',
      'm.getRepository(User).update({ id }, { role })',
      '@InjectRepository(User) private readonly repo: Repository<User>',
      'm.save(User, { email })',
    ])
      expect([write, writesUsers(write)]).toEqual([write, true]);
    for (const other of [
      'SELECT id FROM users WHERE email = $1',
      'FROM sessions s JOIN users u ON u.id = s.user_id',
      'UPDATE user_mfa SET last_used_step = $2',
      'INSERT INTO users_audit (id) VALUES ($1)',
      'm.getRepository(UserMfa).delete({ userId })',
    ])
      expect([other, writesUsers(other)]).toEqual([other, false]);
  });
});
