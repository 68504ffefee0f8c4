/**
 * Rate measurements with a bound on the work, for cases that consume something (pre-signed
 * attestations, database rows) and so cannot run for as long as a round lasts. Like
 * measure.ts, each figure is the median of several rounds after a warm-up round.
 */

export interface CountedRounds {
  /** One operation; awaited. Receives the operation's index, unique across all rounds. */
  readonly run: (index: number) => Promise<unknown>;
  readonly opsPerRound: number;
  /** Measured rounds, after one warm-up round of the same size. */
  readonly rounds: number;
  /** Operations in flight at once (1: sequential). */
  readonly concurrency?: number;
}

/** How many operations a CountedRounds measurement consumes in all. */
export function countedOps(options: Pick<CountedRounds, 'opsPerRound' | 'rounds'>): number {
  return options.opsPerRound * (options.rounds + 1);
}

/** A round's rate, and the CPU time this process (all its threads) spent per operation in it. */
export interface RoundRate {
  readonly opsPerSecond: number;
  readonly cpuMicrosPerOp: number;
}

/** The round with the median rate. */
function median(rounds: RoundRate[]): RoundRate {
  const sorted = [...rounds].sort((a, b) => a.opsPerSecond - b.opsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] ?? { opsPerSecond: 0, cpuMicrosPerOp: 0 };
}

function roundRate(operations: number, start: number, cpu: NodeJS.CpuUsage): RoundRate {
  const used = process.cpuUsage(cpu);
  return {
    opsPerSecond: (operations * 1000) / (performance.now() - start),
    cpuMicrosPerOp: (used.user + used.system) / operations,
  };
}

async function countedRound(options: CountedRounds, first: number): Promise<RoundRate> {
  let next = first;
  const end = first + options.opsPerRound;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const index = next;
      next += 1;
      await options.run(index);
    }
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
  return roundRate(options.opsPerRound, start, cpu);
}

/** The median round over rounds of a fixed number of operations. */
export async function measureCounted(options: CountedRounds): Promise<RoundRate> {
  const rates: RoundRate[] = [];
  for (let round = 0; round <= options.rounds; round += 1) {
    const rate = await countedRound(options, round * options.opsPerRound);
    if (round > 0) rates.push(rate);
    process.stderr.write('.');
  }
  return median(rates);
}

/** The median round over fixed-time rounds of a repeatable operation (awaited if it returns a promise). */
export async function measureTimed(run: () => unknown, roundMs: number, rounds: number): Promise<RoundRate> {
  const rates: RoundRate[] = [];
  for (let round = 0; round <= rounds; round += 1) {
    let operations = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < roundMs) {
      for (let index = 0; index < 8; index += 1) {
        const result = run();
        if (result instanceof Promise) await result;
      }
      operations += 8;
      elapsed = performance.now() - start;
    }
    if (round > 0) rates.push(roundRate(operations, start, cpu));
    process.stderr.write('.');
  }
  return median(rates);
}

/** A Markdown table row: case, ops/s, wall µs per op, this process's CPU µs per op, ratio to the baseline rate. */
export function rateRow(name: string, rate: RoundRate, baseline: RoundRate): string {
  const { opsPerSecond, cpuMicrosPerOp } = rate;
  return `| ${name} | ${Math.round(opsPerSecond).toLocaleString('en')} | ${(1e6 / opsPerSecond).toFixed(1)} | ${cpuMicrosPerOp.toFixed(1)} | ${(
    opsPerSecond / baseline.opsPerSecond
  ).toFixed(2)} |`;
}

export const RATE_TABLE_HEADER =
  '| case | ops/s | wall µs/op | process CPU µs/op | ratio to baseline |\n| --- | ---: | ---: | ---: | ---: |';
