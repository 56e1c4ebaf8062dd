import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CA and a server certificate for a local PostgreSQL, and the server flags that use them. */
export interface LocalPgTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** `-c` flags for startEmbeddedPostgres({ postgresFlags }): ssl=on with this certificate. */
  postgresFlags: string[];
}

/**
 * Makes a throwaway CA (openssl) and a certificate it signs for `names` (DNS names or IP addresses, all in
 * the SAN), so that the API can run with DB_SSL_MODE=verify-full and DB_SSL_CA against a local server, as in
 * production (the benchmark, test/database-tls.e2e-spec.ts). The key is made readable by the server only: as
 * root the embedded server runs as "postgres", which must own it.
 */
export function makeLocalPgTls(dir: string, names: readonly string[] = ['localhost', '127.0.0.1']): LocalPgTls {
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Hearth local CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0] ?? 'localhost'}`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
  openssl(
    ...['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'],
  );
  const keyFile = join(dir, 'server.key');
  const certFile = join(dir, 'server.crt');
  chmodSync(keyFile, 0o600);
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(keyFile, id('-u'), id('-g'));
  }
  return {
    caFile: join(dir, 'ca.crt'),
    certFile,
    keyFile,
    postgresFlags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${certFile}`, '-c', `ssl_key_file=${keyFile}`],
  };
}
