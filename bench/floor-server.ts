/*
 * The floor: the same list query and insert as the API, served by bare node:http + pg with no framework,
 * no auth, no validation, no audit. Every API figure in the benchmark is reported as a ratio to this.
 * Usage: node dist/bench/floor-server.js  (DATABASE_URL, PORT, TEAM_ID)
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const teamId = process.env.TEAM_ID!;

const LIST_SQL = `SELECT id, first_name, last_name, email, phone, client_type, status, notes, address, created_at, updated_at
  FROM clients WHERE team_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`;
const INSERT_SQL = `INSERT INTO clients (team_id, first_name, last_name, email, client_type, status)
  VALUES ($1, $2, $3, $4, 'buyer', 'active') RETURNING id, first_name, last_name, email, client_type, status, created_at, updated_at`;

function camel(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
  return out;
}

const server = createServer((req, res) => {
  const send = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const url = new URL(req.url ?? '/', 'http://floor');
  if (req.method === 'GET' && url.pathname === '/clients') {
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 50));
    pool.query(LIST_SQL, [teamId, limit]).then(
      (r) => send(200, { success: true, data: r.rows.map(camel), meta: { limit } }),
      () => send(500, { success: false }),
    );
    return;
  }
  if (req.method === 'POST' && url.pathname === '/clients') {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as { firstName?: string; lastName?: string; email?: string };
      pool.query(INSERT_SQL, [teamId, body.firstName ?? 'A', body.lastName ?? 'B', body.email ?? null]).then(
        (r) => send(201, { success: true, data: camel(r.rows[0] as Record<string, unknown>) }),
        () => send(500, { success: false }),
      );
    });
    return;
  }
  send(404, { success: false });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`floor listening on ${port}\n`);
});
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
