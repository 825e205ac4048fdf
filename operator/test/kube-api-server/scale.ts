/**
 * The scale subresource (autoscaling/v1 Scale) of Deployments, StatefulSets, ReplicaSets and of
 * custom resources whose CRD declares `subresources.scale` with its replica and selector paths.
 */
import {
  badRequest,
  conflict,
  invalid,
  invalidObject,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  unsupportedMediaType,
} from './errors.ts';
import { clone, jsonPatch, mergePatch } from './patch.ts';
import { PATCH_TYPES, type Registry } from './registry.ts';
import type { ResourceType } from './resources.ts';
import { isObject, type Json, type JsonObject } from './schema.ts';

function getPath(o: JsonObject, path: string): Json | undefined {
  let cur: Json | undefined = o;
  for (const p of path.replace(/^\./, '').split('.')) cur = isObject(cur) ? cur[p] : undefined;
  return cur;
}

function setPath(o: JsonObject, path: string, v: Json): void {
  const parts = path.replace(/^\./, '').split('.');
  let cur = o;
  for (const p of parts.slice(0, -1)) {
    if (!isObject(cur[p])) cur[p] = {};
    cur = cur[p] as JsonObject;
  }
  cur[parts[parts.length - 1]!] = v;
}

/** metav1.FormatLabelSelector of a LabelSelector object. */
function formatSelector(sel: Json | undefined): string {
  if (!isObject(sel)) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(isObject(sel.matchLabels) ? sel.matchLabels : {}).sort())
    parts.push(`${k}=${String(v)}`);
  for (const e of Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []) {
    if (!isObject(e)) continue;
    const values = (Array.isArray(e.values) ? e.values : []).map(String).sort().join(',');
    const key = String(e.key);
    if (e.operator === 'In') parts.push(`${key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${key}`);
  }
  return parts.join(',');
}

export function toScale(t: ResourceType, o: JsonObject): JsonObject {
  const paths = t.scale!;
  const m = isObject(o.metadata) ? o.metadata : {};
  const selector = t.crdName
    ? paths.labelSelectorPath
      ? getPath(o, paths.labelSelectorPath)
      : undefined
    : formatSelector(getPath(o, '.spec.selector'));
  const status: JsonObject = { replicas: (getPath(o, paths.statusReplicasPath) as number | undefined) ?? 0 };
  if (typeof selector === 'string' && selector) status.selector = selector;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name as Json,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      uid: m.uid as Json,
      resourceVersion: m.resourceVersion as Json,
      creationTimestamp: m.creationTimestamp as Json,
    },
    spec: { replicas: (getPath(o, paths.specReplicasPath) as number | undefined) ?? 0 },
    status,
  };
}

export interface ScaleWrite {
  body?: Json;
  patch?: { contentType: string; raw: string };
  fieldManager?: string;
  userAgent?: string;
  dryRun?: boolean;
}

export function readScale(registry: Registry, t: ResourceType, namespace: string, name: string): JsonObject {
  return toScale(t, registry.get(t, namespace, name));
}

export function writeScale(
  registry: Registry,
  t: ResourceType,
  namespace: string,
  name: string,
  w: ScaleWrite,
): JsonObject {
  const stored = registry.storage.get(t.storageKey, t.namespaced ? namespace : '', name);
  if (!stored) throw notFound({ group: t.group, resource: t.plural }, name);
  const current = toScale(t, registry.present(t, clone(stored)));
  let scale: Json;
  if (w.patch) {
    const ct = w.patch.contentType;
    let p: Json;
    try {
      p = JSON.parse(w.patch.raw) as Json;
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    if (ct === PATCH_TYPES.merge || ct === PATCH_TYPES.strategic) scale = mergePatch(current, p);
    else if (ct === PATCH_TYPES.json) scale = jsonPatch(current, p);
    else throw unsupportedMediaType(ct, [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic]);
  } else scale = w.body ?? null;
  if (!isObject(scale)) throw badRequest('the body of the request was in an unknown format');
  const sm = isObject(scale.metadata) ? scale.metadata : {};
  const rv = sm.resourceVersion;
  const storedRv = isObject(stored.metadata) ? stored.metadata.resourceVersion : undefined;
  if (typeof rv === 'string' && rv !== '' && rv !== storedRv) {
    throw conflict({ group: t.group, resource: t.plural }, name, OPTIMISTIC_LOCK_MESSAGE);
  }
  const replicas = isObject(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== 'number' || replicas < 0) {
    throw invalidObject('Scale', 'autoscaling', name, [
      invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0'),
    ]);
  }
  const next = registry.present(t, clone(stored));
  setPath(next, t.scale!.specReplicasPath, replicas);
  const out = registry.commit(t, stored, next, {
    manager: w.fieldManager ?? (w.userAgent ?? 'unknown').split('/')[0] ?? 'unknown',
    subresource: 'scale',
    isPut: false,
    applied: false,
    dryRun: !!w.dryRun,
  });
  return toScale(t, out);
}
