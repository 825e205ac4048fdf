export { type BenchContext, type BenchSuite, defineBench } from './bench/define.ts';
export {
  type FixedRateResult,
  fixedRate,
  httpGet,
  httpThroughput,
  type ThroughputResult,
} from './bench/load.ts';
export type { Measurement, MeasurementInput } from './bench/measurement.ts';
export { median, percentile, summarize } from './bench/stats.ts';
