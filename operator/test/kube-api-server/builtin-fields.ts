/**
 * The fields each built-in kind declares (the Go structs, as @kubernetes/client-node's generated
 * models list them). Decoding a request into those structs drops any other field, which the API
 * server reports as `unknown field "<path>"` (a warning, or a 400 with fieldValidation=Strict).
 */
import * as k8s from '@kubernetes/client-node';
import type { ResourceType } from './resources.ts';
import { isObject, type Json } from './schema.ts';

interface Attribute {
  baseName: string;
  type: string;
}

const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>;

function attributes(type: string): Attribute[] | undefined {
  const model = models[type];
  return typeof model?.getAttributeTypeMap === 'function' ? model.getAttributeTypeMap() : undefined;
}

function rootType(t: ResourceType): string {
  const version = t.version.charAt(0).toUpperCase() + t.version.slice(1);
  if (t.kind === 'Event') return t.group === '' ? 'CoreV1Event' : 'EventsV1Event';
  return `${version}${t.kind}`;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function walk(v: Json | undefined, type: string, path: string, removed: string[]): void {
  const arr = ARRAY.exec(type);
  if (arr) {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        walk(x, arr[1]!, `${path}[${i}]`, removed);
      });
    }
    return;
  }
  const map = MAP.exec(type);
  if (map) {
    if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, map[1]!, `${path}[${k}]`, removed);
    return;
  }
  const attrs = attributes(type);
  if (!attrs || !isObject(v)) return;
  for (const k of Object.keys(v)) {
    const child = path ? `${path}.${k}` : k;
    const a = attrs.find((x) => x.baseName === k);
    if (!a) {
      delete v[k];
      removed.push(child);
    } else walk(v[k], a.type, child, removed);
  }
}

/** Drops the fields the kind does not declare; returns their paths. */
export function pruneBuiltin(t: ResourceType, o: Json): string[] {
  const removed: string[] = [];
  if (attributes(rootType(t))) walk(o, rootType(t), '', removed);
  return removed;
}
