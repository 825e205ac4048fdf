/** Label selectors (k8s.io/apimachinery/pkg/labels) and the metadata field selectors. */
import { badRequest } from './errors.ts';
import { isObject, type JsonObject } from './schema.ts';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type Selector = (obj: JsonObject) => boolean;

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

export function parseLabelSelector(s: string | null | undefined): Selector {
  if (!s) return () => true;
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(s)) {
    let m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(part);
    if (m) {
      reqs.push({
        key: m[1]!,
        op: m[2] as 'in' | 'notin',
        values: m[3]!
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      });
      continue;
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) {
      reqs.push({ key: m[1]!, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] });
      continue;
    }
    m = /^(!?)([^=!\s()]+)$/.exec(part);
    if (m) {
      reqs.push({ key: m[2]!, op: m[1] ? '!exists' : 'exists' });
      continue;
    }
    throw badRequest(`unable to parse requirement: found '${part}', expected: valid label selector`);
  }
  return (obj) => {
    const labels = (
      isObject(obj.metadata) && isObject(obj.metadata.labels) ? obj.metadata.labels : {}
    ) as Record<string, string>;
    return reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      switch (r.op) {
        case 'exists':
          return has;
        case '!exists':
          return !has;
        case 'in':
          return has && r.values.includes(labels[r.key]!);
        default:
          return !has || !r.values.includes(labels[r.key]!);
      }
    });
  };
}

/** Only metadata.name and metadata.namespace (plus a few well-known per-kind fields) are indexed. */
export function parseFieldSelector(s: string | null | undefined, kind: string): Selector {
  if (!s) return () => true;
  const reqs: Array<{ field: string; neg: boolean; value: string }> = [];
  for (const part of splitTopLevel(s)) {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    const field = m[1]!;
    const supported = ['metadata.name', 'metadata.namespace'];
    if (kind === 'Pod') supported.push('spec.nodeName', 'status.phase');
    if (kind === 'Secret') supported.push('type');
    if (kind === 'Event')
      supported.push('involvedObject.name', 'involvedObject.kind', 'involvedObject.uid', 'reason', 'type');
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field, neg: m[2] === '!=', value: m[3]! });
  }
  return (obj) =>
    reqs.every((r) => {
      let cur: unknown = obj;
      for (const p of r.field.split('.')) cur = isObject(cur) ? cur[p] : undefined;
      const v = cur === undefined || cur === null ? '' : String(cur);
      return r.neg ? v !== r.value : v === r.value;
    });
}
