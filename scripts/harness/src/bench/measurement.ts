/** One figure of a benchmark suite, as written to bench/out/<suite>.json. */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** The figure this one is compared with, measured in the same run. */
  baseline?: number;
  baselineName?: string;
  ratio?: number;
  /** A condition on `value` or `ratio`, e.g. "ratio >= 0.7" or "value < 10". */
  target?: string;
  pass: boolean;
}

export interface MeasurementInput {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  target?: string;
}

const TARGET = /^\s*(value|ratio)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function checkTarget(target: string, value: number, ratio: number | undefined): boolean {
  const m = TARGET.exec(target);
  if (!m) throw new Error(`bad target "${target}": expected e.g. "ratio >= 0.7" or "value < 10"`);
  const [, subject, op, threshold] = m;
  const x = subject === 'ratio' ? ratio : value;
  if (x === undefined || !Number.isFinite(x)) return false;
  const t = Number(threshold);
  switch (op) {
    case '<':
      return x < t;
    case '<=':
      return x <= t;
    case '>':
      return x > t;
    default:
      return x >= t;
  }
}

export function measure(input: MeasurementInput): Measurement {
  const ratio =
    input.baseline !== undefined && input.baseline !== 0 ? round(input.value / input.baseline, 4) : undefined;
  const m: Measurement = { name: input.name, value: round(input.value, 3), unit: input.unit, pass: true };
  if (input.baseline !== undefined) m.baseline = round(input.baseline, 3);
  if (input.baselineName !== undefined) m.baselineName = input.baselineName;
  if (ratio !== undefined) m.ratio = ratio;
  if (input.target !== undefined) {
    m.target = input.target;
    m.pass = checkTarget(input.target, input.value, ratio);
  }
  return m;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
