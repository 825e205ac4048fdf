import { createHash } from 'node:crypto';
import type { OwnerReference } from '../api/v1alpha1/meta.ts';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './object.ts';

/** Annotation holding the hash of the configuration this operator last applied to a child. */
export const APPLIED_HASH = 'souk.dev/applied-hash';

export function hashOf(value: unknown, length = 16): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, length);
}

/** JSON with sorted keys, so equal values hash equally whatever their key order. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

/** Marks obj as controlled by owner: garbage collection deletes it with the owner, and its events map back. */
export function setControllerReference<T extends KubeObject>(owner: KubeObject, obj: T): T {
  if (!owner.metadata.uid) throw new Error(`owner ${owner.kind}/${owner.metadata.name} has no uid`);
  const ref: OwnerReference = {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  obj.metadata.ownerReferences = [ref];
  return obj;
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

/**
 * True when every field of `desired` has the same value in `live` (objects: recursively; lists: same length,
 * element by element). The apiserver adds defaults and other managers' fields, which this ignores.
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === live) return true;
  if (desired === null || typeof desired !== 'object') {
    // The apiserver normalises int-or-string values like ports and quantities only in representation.
    return live !== undefined && String(desired) === String(live);
  }
  if (live === null || typeof live !== 'object') return false;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((d, i) => isSubset(d, live[i]));
  }
  for (const [k, v] of Object.entries(desired as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (!isSubset(v, (live as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * Stamps the desired object with the hash of itself. Server-side apply removes a field this manager stops
 * applying, but a subset check cannot see that a field should go; a changed hash can.
 */
export function withAppliedHash<T extends KubeObject>(obj: T): T {
  const h = hashOf(obj);
  obj.metadata.annotations = { ...obj.metadata.annotations, [APPLIED_HASH]: h };
  return obj;
}

/** Whether `live` already is what applying `desired` (stamped by withAppliedHash) would produce. */
export function upToDate(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live || live.metadata.deletionTimestamp) return false;
  if (live.metadata.annotations?.[APPLIED_HASH] !== desired.metadata.annotations?.[APPLIED_HASH])
    return false;
  return isSubset(desired, live);
}

/**
 * Server-side apply with one field manager and force: the operator is the single authority over the fields
 * it states, so a conflict with another manager is resolved in its favour rather than failing the reconcile.
 */
export class Applier {
  constructor(
    private readonly client: KubeClient,
    readonly fieldManager: string,
  ) {}

  apply<T extends KubeObject>(obj: T): Promise<T> {
    return this.client.apply(obj, { fieldManager: this.fieldManager, force: true });
  }

  /** Applies only when the cached live object differs; returns whether a write happened. */
  async ensure(desired: KubeObject, live: KubeObject | undefined): Promise<boolean> {
    if (upToDate(desired, live)) return false;
    await this.apply(desired);
    return true;
  }

  /** Applies status through the status subresource (the object must carry apiVersion, kind, metadata.name). */
  applyStatus<T extends KubeObject>(obj: T): Promise<T> {
    return this.client.apply(obj, { fieldManager: this.fieldManager, force: true, subresource: 'status' });
  }
}
