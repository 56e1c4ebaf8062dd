import { HttpClient } from '../helpers/http';
import { STRONG_PASSWORD } from '../helpers/auth';
import { type SpawnedApp, spawnApp } from './spawn-app';

// 60 s inside `npm test`; `npm run test:soak` runs the long one (SOAK_SECONDS=300).
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
if (!Number.isFinite(SOAK_SECONDS) || SOAK_SECONDS < 30)
  throw new Error(`SOAK_SECONDS must be a number of seconds >= 30, not ${process.env.SOAK_SECONDS}`);
// About 24 heap samples whatever the duration (every 5 s for 2 minutes and more), so a short soak still has a trend.
const SAMPLE_MS = Math.min(5_000, Math.round((SOAK_SECONDS * 1000) / 24));

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/**
 * A mixed load (reads, audited writes, auth checks, bad requests) for SOAK_SECONDS (60 s by default, 300 s in
 * `npm run test:soak`)
 * while the API's heap after a full GC is sampled: after warm-up it must show no growth trend.
 */
describe(`memory soak (${SOAK_SECONDS} s)`, () => {
  let app: SpawnedApp;

  beforeAll(async () => {
    app = await spawnApp();
  }, 90_000);
  afterAll(async () => {
    app.child.kill('SIGTERM');
    await app.exited;
  });

  it(
    'keeps the heap flat under sustained mixed load',
    async () => {
      const http = new HttpClient(app.baseUrl);
      const reg = await http.post('/v1/auth/register', {
        email: `soak-${Date.now()}@example.com`,
        password: STRONG_PASSWORD,
        firstName: 'S',
        lastName: 'K',
        teamName: 'Soak',
      });
      const token: string = reg.body.data.accessToken;
      const samples: [number, number][] = [];
      const start = Date.now();
      let stop = false;
      let requests = 0;
      const errors: string[] = [];
      const mix = [
        () => http.get('/v1/clients?limit=50', { token }),
        () =>
          http.post('/v1/clients', { firstName: 'Soak', lastName: `N${requests}`, notes: 'x'.repeat(500) }, { token }),
        () => http.get('/v1/auth/me', { token }),
        () => http.get('/health'),
        () => http.get('/v1/nope', { token }),
        () => http.post('/v1/clients', { firstName: 42 }, { token }),
        () => http.get('/v1/clients?limit=50&q=soak', { token }),
      ];
      const worker = async () => {
        while (!stop) {
          const res = await mix[requests++ % mix.length]!();
          if (res.status >= 500) errors.push(`${res.status} ${res.text.slice(0, 120)}`);
        }
      };
      // The heap after a full GC every SAMPLE_MS: what a leak grows. (Resident memory only shows the allocator's
      // high-water mark, which rises with load and rarely falls, so it is reported but not judged.)
      const rss: number[] = [];
      const sampler = setInterval(() => {
        rss.push(app.rssMb());
        void app.heapAfterGcMb().then((mb) => samples.push([(Date.now() - start) / 60_000, mb]));
      }, SAMPLE_MS);
      const workers = Array.from({ length: 4 }, worker);
      await new Promise((r) => setTimeout(r, SOAK_SECONDS * 1000));
      stop = true;
      clearInterval(sampler);
      await Promise.all(workers);

      expect(errors).toEqual([]);
      // The first third is warm-up (JIT, pools, caches filling); judge the rest.
      const steady = samples.slice(Math.floor(samples.length / 3));
      const mbPerMinute = slope(steady);
      // Compare medians of the first and last quarter, so one sample caught mid-request does not decide.
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const quarter = Math.max(1, Math.floor(steady.length / 4));
      const growth =
        median(steady.slice(-quarter).map((s) => s[1])) - median(steady.slice(0, quarter).map((s) => s[1]));
      process.stdout.write(
        `soak: ${requests} requests in ${SOAK_SECONDS} s; heap after GC ${steady[0]![1].toFixed(1)} → ${steady[steady.length - 1]![1].toFixed(1)} MB, ` +
          `trend ${mbPerMinute.toFixed(2)} MB/min, median growth ${growth.toFixed(1)} MB; RSS ${rss[0]?.toFixed(0)} → ${rss[rss.length - 1]?.toFixed(0)} MB\n`,
      );
      expect(requests).toBeGreaterThan(SOAK_SECONDS * 20);
      // Under 1 MB/min; a short soak (the 60 s one in `npm test`) has too little steady time for a per-minute slope
      // to mean that much, so there the trend may add up to 2 MB over the steady window: it catches fast leaks
      // only, and `npm run test:soak` (300 s, where the 1 MB/min bound is the tighter one) the slow ones.
      const steadyMinutes = steady[steady.length - 1]![0] - steady[0]![0] || 1;
      expect(mbPerMinute).toBeLessThan(Math.max(1, 2 / steadyMinutes));
      expect(growth).toBeLessThan(5);
    },
    (SOAK_SECONDS + 120) * 1000,
  );
});
