/** resource.Quantity parsing (k8s.io/apimachinery/pkg/api/resource), enough to compare values. */

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

const suffixes: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** The value of a quantity, or undefined when it does not parse. */
export function parseQuantity(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = QUANTITY.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2]!;
  if (Number.isNaN(n)) return undefined;
  if (suffix in suffixes) return n * suffixes[suffix]!;
  const exp = /^[eE]([-+]?[0-9]+)$/.exec(suffix);
  return exp ? n * 10 ** Number(exp[1]) : undefined;
}
