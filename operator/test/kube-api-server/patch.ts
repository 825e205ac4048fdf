/**
 * The three non-apply patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the
 * strategic merge patch of built-in kinds (merge keys and directives from schema.ts shapes).
 */
import { badRequest, StatusError } from './errors.ts';
import { isObject, type Json, type JsonObject, type Shape } from './schema.ts';

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`invalid JSON pointer "${p}"`);
  return p.slice(1).split('/').map(unescapePointer);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root: Json = clone(doc);
  const resolve = (tokens: string[]): { parent: Json; key: string } => {
    let cur: Json = root;
    for (const t of tokens.slice(0, -1)) {
      if (Array.isArray(cur)) cur = cur[Number(t)] as Json;
      else if (isObject(cur)) cur = cur[t] as Json;
      else cur = undefined as unknown as Json;
      if (cur === undefined) throw new Error('doc is missing path');
    }
    return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
  };
  const get = (tokens: string[]): Json | undefined => {
    if (tokens.length === 0) return root;
    const { parent, key } = resolve(tokens);
    if (Array.isArray(parent)) return parent[Number(key)];
    if (isObject(parent)) return parent[key];
    return undefined;
  };
  const remove = (tokens: string[], path: string) => {
    const { parent, key } = resolve(tokens);
    if (Array.isArray(parent)) {
      const i = Number(key);
      if (!(i >= 0 && i < parent.length)) throw new Error(`unable to remove nonexistent key: ${path}`);
      parent.splice(i, 1);
    } else if (isObject(parent) && key in parent) delete parent[key];
    else throw new Error(`Unable to remove nonexistent key: ${key}: missing value`);
  };
  const add = (tokens: string[], value: Json) => {
    if (tokens.length === 0) {
      root = value;
      return;
    }
    const { parent, key } = resolve(tokens);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!(i >= 0 && i <= parent.length))
        throw new Error('add operation does not apply: doc is missing path');
      parent.splice(i, 0, value);
    } else if (isObject(parent)) parent[key] = value;
    else throw new Error('add operation does not apply: doc is missing path');
  };
  try {
    for (const op of ops) {
      if (!isObject(op)) throw new Error('invalid operation');
      const path = String(op.path ?? '');
      const tokens = parsePointer(path);
      switch (op.op) {
        case 'add':
          add(tokens, clone(op.value as Json));
          break;
        case 'remove':
          remove(tokens, path);
          break;
        case 'replace':
          if (get(tokens) === undefined)
            throw new Error(`replace operation does not apply: doc is missing key: ${path}`);
          if (tokens.length === 0) root = clone(op.value as Json);
          else {
            remove(tokens, path);
            add(tokens, clone(op.value as Json));
          }
          break;
        case 'move': {
          const from = parsePointer(String(op.from));
          const v = get(from);
          if (v === undefined)
            throw new Error(`move operation does not apply: doc is missing from path: ${op.from}`);
          remove(from, String(op.from));
          add(tokens, v);
          break;
        }
        case 'copy': {
          const v = get(parsePointer(String(op.from)));
          if (v === undefined)
            throw new Error(`copy operation does not apply: doc is missing from path: ${op.from}`);
          add(tokens, clone(v));
          break;
        }
        case 'test':
          if (!deepEqual(get(tokens), op.value)) throw new Error(`testing value ${path} failed: test failed`);
          break;
        default:
          throw new Error(`Unexpected kind: ${String(op.op)}`);
      }
    }
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request`, {
      causes: [{ reason: 'FieldValueInvalid', message: (err as Error).message }],
    });
  }
  return root;
}

/**
 * Strategic merge patch: maps merge, lists with a merge key merge by key, primitive sets union,
 * other lists are replaced. Directives: $patch (replace|delete|merge), $retainKeys,
 * $deleteFromPrimitiveList/<field>, $setElementOrder/<field> (order only, accepted and ignored).
 */
export function strategicMergePatch(target: Json | undefined, patch: Json, shape: Shape): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const out = clone(patch);
    delete out.$patch;
    return out;
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isObject(target) ? clone(target) : {};
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v))
        out[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    const fieldShape = shape.field(k);
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v) && fieldShape.listType !== 'atomic') {
      out[k] = mergeList(out[k], v, fieldShape);
    } else if (isObject(v) && fieldShape.objectKind !== 'atomic') {
      const merged = strategicMergePatch(out[k], v, fieldShape);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = clone(v);
    }
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function mergeList(target: Json | undefined, patch: Json[], shape: Shape): Json[] {
  const cur: Json[] = Array.isArray(target) ? clone(target) : [];
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map(clone);
  }
  if (shape.listType === 'set') {
    for (const p of patch) if (!cur.some((c) => deepEqual(c, p))) cur.push(clone(p));
    return cur;
  }
  const keys = shape.listKeys;
  const mergeKey = keys[0] ?? 'name';
  for (const p of patch) {
    if (!isObject(p)) {
      cur.push(clone(p));
      continue;
    }
    const i = cur.findIndex((c) => isObject(c) && deepEqual(c[mergeKey], p[mergeKey]));
    if (p.$patch === 'delete') {
      if (i >= 0) cur.splice(i, 1);
      continue;
    }
    if (i >= 0) cur[i] = strategicMergePatch(cur[i], p, shape.item());
    else cur.push(strategicMergePatch(undefined, p, shape.item()));
  }
  return cur;
}

/** The structured merge of server-side apply: config wins; map-lists merge by key; sets union. */
export function structuredMerge(live: Json | undefined, config: Json, shape: Shape): Json {
  if (Array.isArray(config)) {
    if (!Array.isArray(live) || shape.listType === 'atomic') return clone(config);
    if (shape.listType === 'set') {
      const out = clone(live);
      for (const c of config) if (!out.some((x) => deepEqual(x, c))) out.push(clone(c));
      return out;
    }
    const out = clone(live);
    for (const c of config) {
      if (!isObject(c)) continue;
      const d = shape.listKeyDefaults;
      const i = out.findIndex(
        (x) => isObject(x) && shape.listKeys.every((k) => deepEqual(x[k] ?? d[k], c[k] ?? d[k])),
      );
      if (i >= 0) out[i] = structuredMerge(out[i], c, shape.item());
      else out.push(clone(c));
    }
    return out;
  }
  if (isObject(config)) {
    if (!isObject(live) || shape.objectKind === 'atomic') return clone(config);
    const out = clone(live);
    for (const [k, v] of Object.entries(config)) out[k] = structuredMerge(out[k], v, shape.field(k));
    return out;
  }
  return config;
}
