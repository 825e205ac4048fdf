/**
 * Compatibility of two JSON Schemas (as `z.toJSONSchema` writes them) of one published event version.
 *
 * - backward: a reader on the new schema can read every event written under the old one;
 * - forward: a reader still on the old schema can read every event written under the new one.
 *
 * A published version must stay both (rolling deploys run old and new writers and readers side by
 * side), which leaves one change: a new optional field. Anything else takes a new version. Unknown
 * fields are ignored by readers (zod strips them), so `additionalProperties` is not compared.
 */
export type Direction = 'backward' | 'forward';

export interface CompatibilityIssue {
  /** JSON path of the field, `$` for the root. */
  path: string;
  direction: Direction;
  message: string;
}

type Schema = Record<string, unknown>;

export function checkCompatibility(previous: unknown, next: unknown): CompatibilityIssue[] {
  const issues: CompatibilityIssue[] = [];
  compare(asSchema(previous), asSchema(next), '$', issues);
  return issues;
}

function asSchema(value: unknown): Schema {
  if (value === true || value === undefined) return {};
  if (typeof value !== 'object' || value === null) return { not: {} };
  return value as Schema;
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Schema).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

function typesOf(schema: Schema): Set<string> | undefined {
  const t = schema['type'];
  if (typeof t === 'string') return new Set([t]);
  if (Array.isArray(t)) return new Set(t as string[]);
  return undefined;
}

/** Whether values of JSON type `t` are accepted by a schema allowing `types` (integers are numbers). */
const accepts = (types: Set<string>, t: string) => types.has(t) || (t === 'integer' && types.has('number'));

function compare(prev: Schema, next: Schema, path: string, issues: CompatibilityIssue[]): void {
  const push = (direction: Direction, message: string) => issues.push({ path, direction, message });

  for (const key of ['anyOf', 'oneOf'] as const) {
    const a = prev[key] as unknown[] | undefined;
    const b = next[key] as unknown[] | undefined;
    if (!a && !b) continue;
    if (a && b && a.length === b.length) {
      a.forEach((option, i) => {
        compare(asSchema(option), asSchema(b[i]), `${path}|${i}`, issues);
      });
      continue;
    }
    const before = new Set((a ?? [prev]).map(canonical));
    const after = new Set((b ?? [next]).map(canonical));
    if ([...before].some((o) => !after.has(o))) push('backward', `${key}: an alternative was removed`);
    if ([...after].some((o) => !before.has(o))) push('forward', `${key}: an alternative was added`);
    return;
  }

  const prevTypes = typesOf(prev);
  const nextTypes = typesOf(next);
  if (prevTypes && nextTypes) {
    const removed = [...prevTypes].filter((t) => !accepts(nextTypes, t));
    const added = [...nextTypes].filter((t) => !accepts(prevTypes, t));
    if (removed.length)
      push(
        'backward',
        `type ${[...prevTypes].join('|')} → ${[...nextTypes].join('|')}: ${removed.join(', ')} no longer accepted`,
      );
    if (added.length)
      push(
        'forward',
        `type ${[...prevTypes].join('|')} → ${[...nextTypes].join('|')}: ${added.join(', ')} unknown to old readers`,
      );
  } else if (prevTypes && !nextTypes && !next['enum'] && !next['const']) {
    push('forward', 'type constraint removed');
  } else if (!prevTypes && nextTypes && !prev['enum'] && !prev['const']) {
    push('backward', `type constraint ${[...nextTypes].join('|')} added`);
  }

  if ('const' in prev || 'const' in next) {
    if (canonical(prev['const']) !== canonical(next['const'])) {
      if ('const' in prev) push('forward', 'constant changed');
      if ('const' in next) push('backward', 'constant changed');
    }
  }

  const prevEnum = prev['enum'] as unknown[] | undefined;
  const nextEnum = next['enum'] as unknown[] | undefined;
  if (prevEnum || nextEnum) {
    const before = new Set((prevEnum ?? []).map(canonical));
    const after = new Set((nextEnum ?? []).map(canonical));
    if (!nextEnum) push('forward', 'enum removed: old readers reject other values');
    else {
      const removed = [...before].filter((v) => !after.has(v));
      if (prevEnum && removed.length) push('backward', `enum values removed: ${removed.join(', ')}`);
      if (!prevEnum) push('backward', 'enum added');
    }
    const added = [...after].filter((v) => !before.has(v));
    if (prevEnum && added.length)
      push('forward', `enum values added: ${added.join(', ')} (old readers reject them)`);
  }

  for (const key of ['format', 'pattern', 'multipleOf'] as const) {
    if (canonical(prev[key]) === canonical(next[key])) continue;
    if (next[key] !== undefined) push('backward', `${key} changed to ${String(next[key])}`);
    if (prev[key] !== undefined) push('forward', `${key} ${String(prev[key])} changed or removed`);
  }

  bounds(prev, next, push);

  const prevProps = (prev['properties'] ?? {}) as Record<string, unknown>;
  const nextProps = (next['properties'] ?? {}) as Record<string, unknown>;
  const prevRequired = new Set((prev['required'] ?? []) as string[]);
  const nextRequired = new Set((next['required'] ?? []) as string[]);
  for (const [name, schema] of Object.entries(prevProps)) {
    const at = `${path}.${name}`;
    if (!(name in nextProps)) {
      if (prevRequired.has(name)) {
        issues.push({ path: at, direction: 'forward', message: 'required field removed or renamed' });
      }
      continue;
    }
    if (prevRequired.has(name) && !nextRequired.has(name)) {
      issues.push({ path: at, direction: 'forward', message: 'required field became optional' });
    }
    if (!prevRequired.has(name) && nextRequired.has(name)) {
      issues.push({ path: at, direction: 'backward', message: 'optional field became required' });
    }
    compare(asSchema(schema), asSchema(nextProps[name]), at, issues);
  }
  for (const name of Object.keys(nextProps)) {
    if (!(name in prevProps) && nextRequired.has(name)) {
      issues.push({ path: `${path}.${name}`, direction: 'backward', message: 'new required field' });
    }
  }

  if (prev['items'] !== undefined || next['items'] !== undefined) {
    compare(asSchema(prev['items']), asSchema(next['items']), `${path}[]`, issues);
  }
  if (prev['additionalProperties'] && typeof prev['additionalProperties'] === 'object') {
    compare(
      asSchema(prev['additionalProperties']),
      asSchema(next['additionalProperties']),
      `${path}{}`,
      issues,
    );
  }
}

const LOWER = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

/** A raised lower bound or lowered upper bound rejects old data; the reverse lets new data past old readers. */
function bounds(prev: Schema, next: Schema, push: (direction: Direction, message: string) => void): void {
  for (const key of [...LOWER, ...UPPER]) {
    const lower = (LOWER as readonly string[]).includes(key);
    const none = lower ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    const a = typeof prev[key] === 'number' ? (prev[key] as number) : none;
    const b = typeof next[key] === 'number' ? (next[key] as number) : none;
    if (a === b) continue;
    const tightened = lower ? b > a : b < a;
    push(tightened ? 'backward' : 'forward', `${key} ${String(a)} → ${String(b)}`);
  }
}
