/**
 * Server-side apply and managedFields (the fieldmanager of k8s.io/apiserver over
 * structured-merge-diff): per-manager field ownership, conflicts, forced takeover and removal of
 * fields a manager stops applying.
 */
import { StatusError } from './errors.ts';
import {
  decodeFieldsV1,
  encodeFieldsV1,
  type FieldPath,
  FieldSet,
  getAt,
  pathString,
  removeAt,
  toFieldSet,
} from './fieldpath.ts';
import { clone, structuredMerge } from './patch.ts';
import { isObject, type Json, type JsonObject, type Shape } from './schema.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

export interface ManagerContext {
  manager: string;
  apiVersion: string;
  /** '' for the main resource, 'status' for /status. */
  subresource: string;
  shape: Shape;
  /** Fields this endpoint cannot change: status on the main resource, all but status on /status. */
  hasStatusSubresource: boolean;
  now: string;
}

const strippedMetadata = new Set([
  'name',
  'namespace',
  'creationTimestamp',
  'selfLink',
  'uid',
  'clusterName',
  'generation',
  'managedFields',
  'resourceVersion',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

function tracked(p: FieldPath, ctx: ManagerContext): boolean {
  if (p[0] === 'f:apiVersion' || p[0] === 'f:kind') return false;
  if (p[0] === 'f:metadata' && p[1] && strippedMetadata.has(p[1].slice(2))) return false;
  if (ctx.hasStatusSubresource) {
    if (ctx.subresource === 'status') return p[0] === 'f:status';
    if (p[0] === 'f:status') return false;
  }
  return true;
}

export function objectFieldSet(obj: JsonObject, ctx: ManagerContext): FieldSet {
  return toFieldSet(obj, ctx.shape).filter((p) => tracked(p, ctx));
}

interface Entry {
  raw: ManagedFieldsEntry;
  set: FieldSet;
}

function readEntries(obj: JsonObject | undefined): Entry[] {
  const mf = isObject(obj?.metadata) ? (obj.metadata.managedFields as unknown) : undefined;
  if (!Array.isArray(mf)) return [];
  return (mf as ManagedFieldsEntry[])
    .filter((e) => isObject(e as unknown as Json) && e.manager !== undefined)
    .map((e) => ({ raw: e, set: decodeFieldsV1(e.fieldsV1) }));
}

function sameEntry(e: ManagedFieldsEntry, manager: string, operation: string, subresource: string): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === subresource;
}

function writeEntries(entries: Entry[]): ManagedFieldsEntry[] {
  return entries
    .filter((e) => e.set.size > 0)
    .map((e) => {
      const out: ManagedFieldsEntry = {
        manager: e.raw.manager,
        operation: e.raw.operation,
        apiVersion: e.raw.apiVersion,
        time: e.raw.time,
        fieldsType: 'FieldsV1',
        fieldsV1: encodeFieldsV1(e.set),
      };
      if (e.raw.subresource) out.subresource = e.raw.subresource;
      return out;
    });
}

function selfEntry(entries: Entry[], ctx: ManagerContext, operation: 'Apply' | 'Update'): Entry {
  let e = entries.find((x) => sameEntry(x.raw, ctx.manager, operation, ctx.subresource));
  if (!e) {
    e = {
      raw: {
        manager: ctx.manager,
        operation,
        apiVersion: ctx.apiVersion,
        time: ctx.now,
        fieldsType: 'FieldsV1',
        fieldsV1: {},
        ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
      },
      set: new FieldSet(),
    };
    entries.push(e);
  }
  return e;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Managed fields after a non-apply write (create, update, patch): the writer takes every field it
 * added or changed, and loses nothing; other managers lose what was changed or removed.
 */
export function managedFieldsForUpdate(
  old: JsonObject | undefined,
  next: JsonObject,
  ctx: ManagerContext,
): ManagedFieldsEntry[] {
  const entries = readEntries(next);
  const oldSet = old ? objectFieldSet(old, ctx) : new FieldSet();
  const newSet = objectFieldSet(next, ctx);
  const added = newSet.difference(oldSet);
  const removed = oldSet.difference(newSet);
  const modified = newSet
    .intersection(oldSet)
    .filter((p) => !newSet.hasDescendant(p) && !same(getAt(old, p), getAt(next, p)));
  const changed = added.union(modified).union(removed);
  for (const e of entries) {
    if (sameEntry(e.raw, ctx.manager, 'Update', ctx.subresource)) continue;
    const kept = e.set.difference(changed);
    if (!kept.equals(e.set)) e.set = kept;
  }
  if (changed.size > 0) {
    const self = selfEntry(entries, ctx, 'Update');
    self.set = self.set.union(added).union(modified).difference(removed);
    self.raw = { ...self.raw, time: ctx.now, apiVersion: ctx.apiVersion };
  }
  return writeEntries(entries);
}

interface Conflict {
  entry: ManagedFieldsEntry;
  path: FieldPath;
}

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s = `${s} with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') return `${s} using ${e.apiVersion} at ${e.time}`;
  return s;
}

function conflictError(conflicts: Conflict[]): StatusError {
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.entry)}: ${pathString(c.path)}`;
  } else {
    const byManager = new Map<string, Conflict[]>();
    for (const c of conflicts) {
      const k = printManager(c.entry);
      byManager.set(k, [...(byManager.get(k) ?? []), c]);
    }
    const lines: string[] = [];
    for (const k of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${k}:`);
      for (const c of byManager.get(k)!) lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${printManager(c.entry)}`,
      field: pathString(c.path),
    })),
  });
}

/** Drops what this endpoint cannot change from an applied configuration. */
function resetConfig(config: JsonObject, live: JsonObject | undefined, ctx: ManagerContext): JsonObject {
  const out = clone(config);
  if (!ctx.hasStatusSubresource) return out;
  if (ctx.subresource === 'status') {
    const base: JsonObject = live ? clone(live) : { ...out, status: {} };
    if (out.status !== undefined) base.status = out.status;
    else delete base.status;
    return base;
  }
  if (live && live.status !== undefined) out.status = clone(live.status);
  else delete out.status;
  return out;
}

/**
 * Server-side apply of `config` by ctx.manager onto `live` (undefined when creating).
 * Returns the merged object carrying its new managedFields.
 */
export function serverSideApply(
  live: JsonObject | undefined,
  config: JsonObject,
  ctx: ManagerContext,
  force: boolean,
): JsonObject {
  const effective = resetConfig(config, live, ctx);
  const configSet =
    ctx.hasStatusSubresource && ctx.subresource === 'status'
      ? objectFieldSet({ status: (config.status ?? {}) as Json }, ctx)
      : objectFieldSet(effective, ctx);
  const entries = readEntries(live);
  const merged = (live ? structuredMerge(live, effective, ctx.shape) : clone(effective)) as JsonObject;

  const conflicts: Conflict[] = [];
  for (const e of entries) {
    if (sameEntry(e.raw, ctx.manager, 'Apply', ctx.subresource)) continue;
    for (const p of e.set.intersection(configSet)) {
      if (configSet.hasDescendant(p)) continue;
      if (!same(getAt(live, p), getAt(merged, p))) conflicts.push({ entry: e.raw, path: p });
    }
  }
  if (conflicts.length > 0) {
    if (!force) throw conflictError(conflicts);
    for (const e of entries) {
      const lost = conflicts.filter((c) => c.entry === e.raw).map((c) => c.path);
      if (lost.length) e.set = e.set.difference(FieldSet.of(lost));
    }
  }

  const self = selfEntry(entries, ctx, 'Apply');
  const toRemove = self.set.difference(configSet);
  let others = new FieldSet();
  for (const e of entries) if (e !== self) others = others.union(e.set);
  const removals = [...toRemove].sort((a, b) => b.length - a.length);
  for (const p of removals) {
    if (others.has(p) || others.hasDescendant(p)) continue;
    removeAt(merged, p);
  }
  const changedOwnership = !self.set.equals(configSet);
  self.set = configSet;
  if (changedOwnership || !same(live, merged))
    self.raw = { ...self.raw, time: ctx.now, apiVersion: ctx.apiVersion };

  const meta = (isObject(merged.metadata) ? merged.metadata : {}) as JsonObject;
  meta.managedFields = writeEntries(entries) as unknown as Json;
  merged.metadata = meta;
  return merged;
}
