/**
 * The garbage collector of kube-controller-manager: ownerReferences drive cascading deletion.
 * - Background: once an owner is gone, dependents with no remaining live owner are deleted;
 *   references to absent owners are removed from dependents that still have a live owner.
 * - Foreground: an owner carrying the `foregroundDeletion` finalizer has its dependents deleted,
 *   and keeps the finalizer until no dependent with blockOwnerDeletion=true remains.
 * - Orphan: the `orphan` finalizer makes the collector strip the ownerReferences, then release it.
 */
import type { Registry } from './registry.ts';
import type { ResourceType } from './resources.ts';
import { isObject, type Json, type JsonObject } from './schema.ts';
import type { StoredEvent } from './storage.ts';
import { WorkQueue } from './workqueue.ts';

interface OwnerRef {
  uid: string;
  blockOwnerDeletion?: boolean;
}

const meta = (o: JsonObject): JsonObject => (isObject(o.metadata) ? o.metadata : {});
const refsOf = (o: JsonObject): OwnerRef[] =>
  (Array.isArray(meta(o).ownerReferences) ? (meta(o).ownerReferences as Json[]) : []).filter(
    isObject,
  ) as unknown as OwnerRef[];
const finalizersOf = (o: JsonObject): string[] =>
  (Array.isArray(meta(o).finalizers) ? meta(o).finalizers : []) as string[];

export const MANAGER = 'kube-controller-manager';

export class GarbageCollector {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: Registry) {
    this.queue = new WorkQueue((key) => this.process(key));
    this.unsubscribe = registry.storage.subscribe((e) => this.observe(e));
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }

  private observe(e: StoredEvent): void {
    const m = meta(e.object);
    const uid = String(m.uid);
    if (e.type === 'DELETED') {
      this.queue.add(`owner:${uid}`);
      for (const r of refsOf(e.object)) this.queue.add(`owner:${r.uid}`);
      return;
    }
    const fin = finalizersOf(e.object);
    if (m.deletionTimestamp && (fin.includes('foregroundDeletion') || fin.includes('orphan'))) {
      this.queue.add(`owner:${uid}`);
    }
    if (refsOf(e.object).length > 0) this.queue.add(`dependent:${uid}`);
  }

  private typeOf(storageKey: string): ResourceType | undefined {
    return this.registry.resources.all().find((t) => t.storageKey === storageKey);
  }

  private lookup(uid: string): { t: ResourceType; o: JsonObject } | undefined {
    const ref = this.registry.storage.refByUid(uid);
    if (!ref) return undefined;
    const o = this.registry.storage.get(ref.storageKey, ref.namespace, ref.name);
    const t = this.typeOf(ref.storageKey);
    return o && t ? { t, o } : undefined;
  }

  private dependentsOf(uid: string): Array<{ t: ResourceType; o: JsonObject }> {
    const out: Array<{ t: ResourceType; o: JsonObject }> = [];
    for (const { storageKey, object } of this.registry.storage.all()) {
      if (!refsOf(object).some((r) => r.uid === uid)) continue;
      const t = this.typeOf(storageKey);
      if (t) out.push({ t, o: structuredClone(object) });
    }
    return out;
  }

  private write(t: ResourceType, old: JsonObject, next: JsonObject): void {
    this.registry.commit(t, old, next, {
      manager: MANAGER,
      subresource: '',
      isPut: false,
      applied: false,
      dryRun: false,
    });
  }

  private removeRefs(t: ResourceType, o: JsonObject, uids: Set<string>): void {
    const next = structuredClone(o);
    const kept = refsOf(next).filter((r) => !uids.has(r.uid));
    if (kept.length) meta(next).ownerReferences = kept as unknown as Json;
    else delete meta(next).ownerReferences;
    this.write(t, o, next);
  }

  private removeFinalizer(t: ResourceType, o: JsonObject, f: string): void {
    const next = structuredClone(o);
    const kept = finalizersOf(next).filter((x) => x !== f);
    if (kept.length) meta(next).finalizers = kept;
    else delete meta(next).finalizers;
    this.write(t, o, next);
  }

  private deleteDependent(t: ResourceType, o: JsonObject): void {
    if (meta(o).deletionTimestamp) return;
    const policy = this.dependentsOf(String(meta(o).uid)).length > 0 ? 'Foreground' : 'Background';
    this.registry.delete(t, String(meta(o).namespace ?? ''), String(meta(o).name), {
      propagationPolicy: policy,
      preconditions: { uid: String(meta(o).uid) },
    });
  }

  private process(key: string): void {
    const [kind, uid] = key.split(':') as [string, string];
    if (kind === 'dependent') {
      this.checkDependent(uid);
      return;
    }
    const owner = this.lookup(uid);
    const dependents = this.dependentsOf(uid);
    if (!owner) {
      for (const d of dependents) this.checkDependent(String(meta(d.o).uid));
      return;
    }
    const om = meta(owner.o);
    if (!om.deletionTimestamp) return;
    const fin = finalizersOf(owner.o);
    if (fin.includes('orphan')) {
      for (const d of dependents) this.removeRefs(d.t, d.o, new Set([uid]));
      this.removeFinalizer(owner.t, owner.o, 'orphan');
      return;
    }
    if (fin.includes('foregroundDeletion')) {
      for (const d of dependents) this.deleteDependent(d.t, d.o);
      const blocking = this.dependentsOf(uid).filter((d) =>
        refsOf(d.o).some((r) => r.uid === uid && r.blockOwnerDeletion === true),
      );
      if (blocking.length === 0) {
        const fresh = this.lookup(uid);
        if (fresh) this.removeFinalizer(fresh.t, fresh.o, 'foregroundDeletion');
      }
    }
  }

  /** A dependent whose owners are all absent is deleted; references to absent owners are dropped. */
  private checkDependent(uid: string): void {
    const d = this.lookup(uid);
    if (!d) return;
    const refs = refsOf(d.o);
    if (refs.length === 0) return;
    const absent = new Set(refs.filter((r) => !this.lookup(r.uid)).map((r) => r.uid));
    if (absent.size === 0) return;
    if (absent.size === refs.length) this.deleteDependent(d.t, d.o);
    else this.removeRefs(d.t, d.o, absent);
  }
}
