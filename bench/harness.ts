/*
 * The benchmark's moving parts, shared by bench/run.ts and the suites in bench/suites.ts: a scenario is either a
 * load (autocannon options, measured as req/s and latency) or a timed operation (a function run once per round,
 * measured as units per second, e.g. rows imported); a suite is scenarios measured round-robin plus the ratios
 * it reports. Adding a scenario: add it to a suite's `scenarios` and, if it has a target, a `ratios` entry.
 */
import autocannon from 'autocannon';

export interface LoadScenario {
  name: string;
  opts: autocannon.Options;
}

/** Runs once per round; `units` done in `ms` (e.g. 50,000 rows imported) gives the scenario's rate. */
export interface TimedScenario {
  name: string;
  once: () => Promise<{ units: number; ms: number }>;
}

export type Scenario = LoadScenario | TimedScenario;

export interface RatioSpec {
  label: string;
  /** Scenario names: a's rate over b's. */
  a: string;
  b: string;
  target: string;
}

export interface Suite {
  title: string;
  scenarios: Scenario[];
  ratios?: RatioSpec[];
  /** Runs after each measured round (e.g. inserts rows, to show a scenario does not degrade as the table grows). */
  betweenRounds?: (round: number) => Promise<void>;
}

export interface Measured {
  name: string;
  /** req/s for loads, units/s for timed operations (median of the rounds). */
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** The rate of each round, in order. */
  perRound: number[];
}

export interface HarnessOptions {
  duration: number;
  rounds: number;
  connections: number;
  only?: RegExp;
  log: (line: string) => void;
}

export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const at = (i: number) => sorted[i] ?? NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
};

const isTimed = (s: Scenario): s is TimedScenario => 'once' in s;

interface RoundResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function loadOnce(s: LoadScenario, o: HarnessOptions): Promise<RoundResult> {
  // A second of warm-up so the connections are open before the measured window.
  await autocannon({ ...s.opts, duration: 1, connections: o.connections });
  const r = await autocannon({ ...s.opts, duration: o.duration, connections: o.connections });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

async function timedOnce(s: TimedScenario): Promise<RoundResult> {
  const { units, ms } = await s.once();
  return { rps: (units * 1000) / ms, p50: ms, p99: ms, errors: 0, non2xx: 0 };
}

/**
 * Every scenario once per round, in turn (background noise on a shared machine then hits every scenario alike);
 * per scenario the median rate, p50 and p99 over the rounds.
 */
export async function measureSuite(suite: Suite, o: HarnessOptions): Promise<Measured[]> {
  const chosen = suite.scenarios.filter((s) => !o.only || o.only.test(s.name));
  if (!chosen.length) return [];
  const rounds = new Map<string, RoundResult[]>(chosen.map((s) => [s.name, []]));
  o.log(`\n${suite.title}\nwarm-up round\n`);
  // One unrecorded round first: the server's caches, the JIT and both pools warm up on every path.
  for (const s of chosen)
    if (isTimed(s)) await s.once();
    else await autocannon({ ...s.opts, duration: 3, connections: o.connections });
  for (let round = 1; round <= o.rounds; round++) {
    o.log(`round ${round}/${o.rounds}\n`);
    for (const s of chosen) {
      const m = isTimed(s) ? await timedOnce(s) : await loadOnce(s, o);
      rounds.get(s.name)?.push(m);
      const unit = isTimed(s) ? 'units/s' : 'req/s';
      o.log(
        `  ${s.name.padEnd(44)} ${String(Math.round(m.rps)).padStart(7)} ${unit}  p50 ${m.p50} ms  p99 ${m.p99} ms${m.non2xx ? `  (${m.non2xx} non-2xx!)` : ''}\n`,
      );
    }
    if (suite.betweenRounds && round < o.rounds) await suite.betweenRounds(round);
  }
  return chosen.map(({ name }) => {
    const ms = rounds.get(name) ?? [];
    return {
      name,
      rps: Math.round(median(ms.map((m) => m.rps))),
      p50: median(ms.map((m) => m.p50)),
      p99: median(ms.map((m) => m.p99)),
      errors: ms.reduce((n, m) => n + m.errors, 0),
      non2xx: ms.reduce((n, m) => n + m.non2xx, 0),
      perRound: ms.map((m) => Math.round(m.rps)),
    };
  });
}

export function ratiosOf(
  results: Measured[],
  specs: RatioSpec[],
): Record<string, { value: number; target: string; perRound?: number[] }> {
  const out: Record<string, { value: number; target: string }> = {};
  for (const { label, a, b, target } of specs) {
    const x = results.find((r) => r.name === a);
    const y = results.find((r) => r.name === b);
    if (x && y && y.rps > 0) out[label] = { value: Math.round((x.rps / y.rps) * 100) / 100, target };
  }
  return out;
}
