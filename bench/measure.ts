/**
 * A small benchmark harness: each case runs for a fixed time, several rounds, and reports the
 * median rate. Cases are compared as ratios to a baseline measured in the same run, so the
 * numbers mean something on any machine.
 */

export interface BenchCase {
  readonly name: string;
  /** One operation; async cases are awaited one at a time. */
  readonly run: () => unknown;
}

export interface BenchResult {
  readonly name: string;
  readonly opsPerSecond: number;
}

const ROUND_MS = Number(process.env['BENCH_ROUND_MS'] ?? 400);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);

async function oneRound(run: () => unknown): Promise<number> {
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let index = 0; index < 16; index += 1) {
      const result = run();
      if (result instanceof Promise) await result;
    }
    operations += 16;
    elapsed = performance.now() - start;
  }
  return (operations * 1000) / elapsed;
}

export async function measure(bench: BenchCase): Promise<BenchResult> {
  await oneRound(bench.run); // warm-up: JIT and caches
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    rates.push(await oneRound(bench.run));
    process.stderr.write('.');
  }
  rates.sort((a, b) => a - b);
  return { name: bench.name, opsPerSecond: rates[Math.floor(rates.length / 2)] ?? 0 };
}

/** Measures a baseline and the cases compared with it, and returns Markdown table rows. */
export async function compare(baseline: BenchCase, cases: readonly BenchCase[]): Promise<string[]> {
  const base = await measure(baseline);
  const rows = [`| ${base.name} (baseline) | ${Math.round(base.opsPerSecond).toLocaleString('en')} | 1.00 |`];
  for (const bench of cases) {
    const result = await measure(bench);
    const ratio = (result.opsPerSecond / base.opsPerSecond).toFixed(2);
    rows.push(`| ${result.name} | ${Math.round(result.opsPerSecond).toLocaleString('en')} | ${ratio} |`);
  }
  return rows;
}
