import { spawn } from 'node:child_process';

/** One /health poll: when it was sent (ms since the epoch) and how long the answer took (ms), or its failure. */
export interface Poll {
  at: number;
  ms: number;
  status: number;
}

// Plain JavaScript for a bare Node process: no test framework, no app code, almost no heap, so its own pauses
// do not show up as the API's.
const POLLER = `
const [url, every] = [process.argv[1], Number(process.argv[2])];
let stopped = false;
process.stdin.on('data', () => undefined);
process.stdin.on('end', () => (stopped = true));
(async () => {
  // The first fetch loads and compiles the HTTP client: not a measurement.
  await fetch(url).then((res) => res.arrayBuffer()).catch(() => undefined);
  process.stdout.write('ready\\n');
  while (!stopped) {
    const at = Date.now();
    let status = 0;
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      status = res.status;
    } catch {}
    const ms = Date.now() - at;
    process.stdout.write(JSON.stringify({ at, ms, status }) + '\\n');
    await new Promise((r) => setTimeout(r, Math.max(0, every - ms)));
  }
  process.exit(0);
})();
`;

/**
 * Polls `url` every `everyMs` from a process of its own (a poll waits for the previous answer, then the rest of
 * the interval), until `stop()`, which resolves with every poll. Resolves once the first (warm-up) poll is done.
 */
export async function startPoller(url: string, everyMs: number): Promise<{ stop(): Promise<Poll[]> }> {
  const child = spawn(process.execPath, ['-e', POLLER, url, String(everyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // Resolved once the poller has warmed up and the measured polls begin.
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    void exited.then(() => reject(new Error('the poller exited before it was ready')));
  });
  return {
    async stop() {
      child.stdin.end();
      await exited;
      return out
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Poll);
    },
  };
}
