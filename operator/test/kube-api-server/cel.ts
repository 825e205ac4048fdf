/**
 * CEL validation rules (x-kubernetes-validations) evaluated with @bufbuild/cel: values are bound
 * with the types the schema gives them (integer -> int, number -> double), `self` and `oldSelf`.
 */
import { type CelInput, celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { isObject, type JSONSchemaProps, type Json } from './schema.ts';

const env = celEnv({ funcs: strings });
type Program = ReturnType<typeof plan>;
const cache = new Map<string, Program>();

/** Parses a rule; returns the compile error message, if any. */
export function compileError(rule: string): string | undefined {
  try {
    compile(rule);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function compile(rule: string): Program {
  let p = cache.get(rule);
  if (!p) {
    p = plan(env, parse(rule));
    cache.set(rule, p);
  }
  return p;
}

/** Rules that mention oldSelf are transition rules: only evaluated when an old value exists. */
export function isTransitionRule(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}

export function toCel(v: Json | undefined, s: JSONSchemaProps | undefined): CelInput {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    if (s?.type === 'number') return v;
    if (s?.type === 'integer' || s?.['x-kubernetes-int-or-string'] || Number.isInteger(v)) return BigInt(v);
    return v;
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => toCel(x, s?.items)) as CelInput;
  const out = new Map<string, CelInput>();
  for (const [k, x] of Object.entries(v)) {
    const child =
      s?.properties?.[k] ??
      (isObject(s?.additionalProperties) ? (s.additionalProperties as JSONSchemaProps) : undefined);
    out.set(k, toCel(x, child));
  }
  return out as unknown as CelInput;
}

export type RuleOutcome = { ok: true } | { ok: false; message: string } | { ok: false; error: string };

export function evaluate(
  rule: string,
  self: Json | undefined,
  oldSelf: Json | undefined,
  schema: JSONSchemaProps,
): RuleOutcome {
  let program: Program;
  try {
    program = compile(rule);
  } catch (err) {
    return { ok: false, error: `compilation failed: ${(err as Error).message}` };
  }
  const bindings: Record<string, CelInput> = { self: toCel(self, schema) };
  if (oldSelf !== undefined) bindings.oldSelf = toCel(oldSelf, schema);
  const result = program(bindings);
  if (isCelError(result)) return { ok: false, error: result.message };
  if (result === true) return { ok: true };
  if (result === false) return { ok: false, message: '' };
  return { ok: false, error: 'rule did not evaluate to a bool' };
}

export function evaluateMessage(
  expr: string,
  self: Json | undefined,
  schema: JSONSchemaProps,
): string | undefined {
  try {
    const result = compile(expr)({ self: toCel(self, schema) });
    return typeof result === 'string' ? result : undefined;
  } catch {
    return undefined;
  }
}
