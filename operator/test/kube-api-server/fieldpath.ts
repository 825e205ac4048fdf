/**
 * Field sets as structured-merge-diff builds them: paths of "f:<field>", "k:{<keys>}" (items of
 * map-lists), "v:<value>" (items of sets); encoded as FieldsV1 in managedFields.
 */
import { isObject, type Json, type JsonObject, type Shape } from './schema.ts';

export type PathElement = string;
export type FieldPath = PathElement[];

const SEP = '\u0000';

export class FieldSet {
  readonly paths = new Set<string>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(p: FieldPath): void {
    this.paths.add(p.join(SEP));
  }

  has(p: FieldPath): boolean {
    return this.paths.has(p.join(SEP));
  }

  get size(): number {
    return this.paths.size;
  }

  *[Symbol.iterator](): Iterator<FieldPath> {
    for (const p of this.paths) yield p.split(SEP);
  }

  union(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const p of this.paths) s.paths.add(p);
    for (const p of o.paths) s.paths.add(p);
    return s;
  }

  difference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const p of this.paths) if (!o.paths.has(p)) s.paths.add(p);
    return s;
  }

  intersection(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const p of this.paths) if (o.paths.has(p)) s.paths.add(p);
    return s;
  }

  /** True when some member lies strictly below p. */
  hasDescendant(p: FieldPath): boolean {
    const prefix = p.join(SEP) + SEP;
    for (const q of this.paths) if (q.startsWith(prefix)) return true;
    return false;
  }

  /** True when p or one of its ancestors or descendants is a member. */
  touches(p: FieldPath): boolean {
    const key = p.join(SEP);
    for (const q of this.paths) {
      if (q === key || q.startsWith(key + SEP) || key.startsWith(q + SEP)) return true;
    }
    return false;
  }

  equals(o: FieldSet): boolean {
    if (o.paths.size !== this.paths.size) return false;
    for (const p of this.paths) if (!o.paths.has(p)) return false;
    return true;
  }

  filter(pred: (p: FieldPath) => boolean): FieldSet {
    const s = new FieldSet();
    for (const p of this) if (pred(p)) s.insert(p);
    return s;
  }
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k] as Json);
    return out;
  }
  return v;
}

export function keyElement(
  item: JsonObject,
  keys: string[],
  defaults: Record<string, Json> = {},
): PathElement {
  const k: JsonObject = {};
  for (const key of [...keys].sort()) {
    const v = item[key] ?? defaults[key];
    if (v !== undefined) k[key] = v as Json;
  }
  return `k:${JSON.stringify(k)}`;
}

export function valueElement(v: Json): PathElement {
  return `v:${JSON.stringify(sortKeys(v))}`;
}

/** typed.TypedValue.ToFieldSet: leaves, list items, free map keys and empty containers. */
export function toFieldSet(value: Json, shape: Shape): FieldSet {
  const set = new FieldSet();
  walk(value, shape, [], set);
  return set;
}

function walk(value: Json, shape: Shape, path: FieldPath, set: FieldSet): void {
  if (Array.isArray(value)) {
    if (shape.listType === 'atomic') {
      set.insert(path);
      return;
    }
    for (const item of value) {
      if (shape.listType === 'set') {
        set.insert([...path, valueElement(item)]);
      } else if (isObject(item)) {
        const p = [...path, keyElement(item, shape.listKeys, shape.listKeyDefaults)];
        set.insert(p);
        walk(item, shape.item(), p, set);
      }
    }
    return;
  }
  if (isObject(value)) {
    if (shape.objectKind === 'atomic') {
      set.insert(path);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      const p = [...path, `f:${k}`];
      walk(v, shape.field(k), p, set);
      if (v === null || (isObject(v) && Object.keys(v).length === 0)) set.insert(p);
      else if (!shape.hasField(k)) set.insert(p);
    }
    return;
  }
  set.insert(path);
}

/** Value at a field path, or undefined when absent. */
export function getAt(value: Json | undefined, path: FieldPath): Json | undefined {
  let cur: Json | undefined = value;
  for (const pe of path) {
    if (cur === undefined) return undefined;
    if (pe.startsWith('f:')) {
      if (!isObject(cur)) return undefined;
      cur = cur[pe.slice(2)];
    } else if (pe.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = JSON.parse(pe.slice(2)) as JsonObject;
      cur = cur.find((it) => isObject(it) && matchesKey(it, want));
    } else if (pe.startsWith('v:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = pe.slice(2);
      cur = cur.find((it) => JSON.stringify(sortKeys(it)) === want);
    } else if (pe.startsWith('i:')) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(pe.slice(2))];
    }
  }
  return cur;
}

function matchesKey(item: JsonObject, want: JsonObject): boolean {
  for (const [k, v] of Object.entries(want)) if (JSON.stringify(item[k]) !== JSON.stringify(v)) return false;
  return true;
}

/** Removes the field or item at path (in place). */
export function removeAt(value: Json, path: FieldPath): void {
  if (path.length === 0) return;
  const parent = getAt(value, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (last.startsWith('f:') && isObject(parent)) {
    delete parent[last.slice(2)];
  } else if (last.startsWith('k:') && Array.isArray(parent)) {
    const want = JSON.parse(last.slice(2)) as JsonObject;
    const i = parent.findIndex((it) => isObject(it) && matchesKey(it, want));
    if (i >= 0) parent.splice(i, 1);
  } else if (last.startsWith('v:') && Array.isArray(parent)) {
    const want = last.slice(2);
    const i = parent.findIndex((it) => JSON.stringify(sortKeys(it)) === want);
    if (i >= 0) parent.splice(i, 1);
  }
}

interface Node {
  member: boolean;
  children: Map<string, Node>;
}

export function encodeFieldsV1(set: FieldSet): JsonObject {
  const root: Node = { member: false, children: new Map() };
  for (const p of set) {
    let n = root;
    for (const pe of p) {
      let c = n.children.get(pe);
      if (!c) {
        c = { member: false, children: new Map() };
        n.children.set(pe, c);
      }
      n = c;
    }
    n.member = true;
  }
  const enc = (n: Node): JsonObject => {
    const o: JsonObject = {};
    if (n.member && n.children.size > 0) o['.'] = {};
    for (const k of [...n.children.keys()].sort()) o[k] = enc(n.children.get(k)!);
    return o;
  };
  return enc(root);
}

export function decodeFieldsV1(fields: Json | undefined): FieldSet {
  const set = new FieldSet();
  const dec = (o: Json | undefined, path: FieldPath) => {
    if (!isObject(o)) return;
    const keys = Object.keys(o);
    if (path.length > 0 && (keys.length === 0 || keys.includes('.'))) set.insert(path);
    for (const k of keys) if (k !== '.') dec(o[k], [...path, k]);
  };
  dec(fields, []);
  return set;
}

/** fieldpath.Path.String(): ".spec.containers[name="app"].image". */
export function pathString(p: FieldPath): string {
  return p
    .map((pe) => {
      if (pe.startsWith('f:')) return `.${pe.slice(2)}`;
      if (pe.startsWith('k:')) {
        const k = JSON.parse(pe.slice(2)) as JsonObject;
        return `[${Object.entries(k)
          .map(([kk, vv]) => `${kk}=${JSON.stringify(vv)}`)
          .join(',')}]`;
      }
      if (pe.startsWith('v:')) return `[=${pe.slice(2)}]`;
      if (pe.startsWith('i:')) return `[${pe.slice(2)}]`;
      return pe;
    })
    .join('');
}
