import { type Measurement, type MeasurementInput, measure } from './measurement.ts';

export interface BenchContext {
  /** Records one figure; returns it with its ratio and pass computed. */
  record(input: MeasurementInput): Measurement;
  log(message: string): void;
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<void>;
}

/** A benchmark suite: the default export of `<workspace>/bench/<name>.bench.ts`. */
export function defineBench(name: string, run: (ctx: BenchContext) => Promise<void>): BenchSuite {
  return { name, run };
}

export async function runSuite(suite: BenchSuite, log: (m: string) => void): Promise<Measurement[]> {
  const results: Measurement[] = [];
  await suite.run({
    record(input) {
      const m = measure(input);
      results.push(m);
      const ratio = m.ratio !== undefined ? ` (ratio ${m.ratio} vs ${m.baselineName ?? m.baseline})` : '';
      const verdict = m.target ? ` [${m.target}: ${m.pass ? 'pass' : 'FAIL'}]` : '';
      log(`  ${m.name}: ${m.value} ${m.unit}${ratio}${verdict}`);
      return m;
    },
    log: (message) => log(`  ${message}`),
  });
  return results;
}
