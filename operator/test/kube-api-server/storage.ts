/**
 * The object store, playing etcd: one global revision counter that becomes every object's
 * resourceVersion, a bounded history of changes for watch resumption, compaction, and
 * reconstruction of a past revision for exact and paginated lists.
 */
import { resourceExpired } from './errors.ts';
import { clone } from './patch.ts';
import type { JsonObject } from './schema.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  type: EventType;
  storageKey: string;
  namespace: string;
  name: string;
  object: JsonObject;
  /** The object before this change (MODIFIED and DELETED). */
  prev?: JsonObject;
}

export interface ObjectRef {
  storageKey: string;
  namespace: string;
  name: string;
}

type Listener = (e: StoredEvent) => void;

function meta(o: JsonObject): JsonObject {
  return o.metadata as JsonObject;
}

export class Storage {
  private revision: number;
  private readonly objects = new Map<string, Map<string, JsonObject>>();
  private readonly byUid = new Map<string, ObjectRef>();
  private history: StoredEvent[] = [];
  /** Watches may resume from any revision >= this one. */
  private oldestResumable: number;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly historyLimit = 10_000,
    startRevision = 1,
  ) {
    this.revision = startRevision;
    this.oldestResumable = startRevision;
  }

  get currentRevision(): number {
    return this.revision;
  }

  get oldestResumableRevision(): number {
    return this.oldestResumable;
  }

  private bucket(storageKey: string): Map<string, JsonObject> {
    let b = this.objects.get(storageKey);
    if (!b) {
      b = new Map();
      this.objects.set(storageKey, b);
    }
    return b;
  }

  get(storageKey: string, namespace: string, name: string): JsonObject | undefined {
    const o = this.objects.get(storageKey)?.get(`${namespace}/${name}`);
    return o ? clone(o) : undefined;
  }

  list(storageKey: string, namespace?: string): JsonObject[] {
    const b = this.objects.get(storageKey);
    if (!b) return [];
    const out: JsonObject[] = [];
    for (const [k, o] of b) if (namespace === undefined || k.startsWith(`${namespace}/`)) out.push(clone(o));
    return out.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  /** Every stored object across kinds (for controllers that scan, e.g. the garbage collector). */
  *all(): Iterable<{ storageKey: string; object: JsonObject }> {
    for (const [storageKey, b] of this.objects) for (const o of b.values()) yield { storageKey, object: o };
  }

  refByUid(uid: string): ObjectRef | undefined {
    return this.byUid.get(uid);
  }

  private emit(type: EventType, storageKey: string, object: JsonObject, prev?: JsonObject): StoredEvent {
    const m = meta(object);
    const ev: StoredEvent = {
      rv: this.revision,
      type,
      storageKey,
      namespace: String(m.namespace ?? ''),
      name: String(m.name),
      object: clone(object),
      ...(prev ? { prev: clone(prev) } : {}),
    };
    this.history.push(ev);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldestResumable = Math.max(this.oldestResumable, dropped[dropped.length - 1]!.rv);
    }
    for (const l of [...this.listeners]) l(ev);
    return ev;
  }

  /** Stores a new object, stamping its resourceVersion. */
  create(storageKey: string, obj: JsonObject): JsonObject {
    this.revision++;
    const m = meta(obj);
    m.resourceVersion = String(this.revision);
    const ns = String(m.namespace ?? '');
    this.bucket(storageKey).set(`${ns}/${m.name}`, clone(obj));
    this.byUid.set(String(m.uid), { storageKey, namespace: ns, name: String(m.name) });
    this.emit('ADDED', storageKey, obj);
    return clone(obj);
  }

  update(storageKey: string, obj: JsonObject): JsonObject {
    const m = meta(obj);
    const ns = String(m.namespace ?? '');
    const key = `${ns}/${m.name}`;
    const prev = this.bucket(storageKey).get(key);
    this.revision++;
    m.resourceVersion = String(this.revision);
    this.bucket(storageKey).set(key, clone(obj));
    this.emit('MODIFIED', storageKey, obj, prev);
    return clone(obj);
  }

  /** Removes an object; the DELETED event carries the last state with the deletion's revision. */
  delete(storageKey: string, obj: JsonObject): JsonObject {
    const m = meta(obj);
    const ns = String(m.namespace ?? '');
    const prev = this.bucket(storageKey).get(`${ns}/${m.name}`);
    this.bucket(storageKey).delete(`${ns}/${m.name}`);
    this.byUid.delete(String(m.uid));
    this.revision++;
    const last = clone(obj);
    meta(last).resourceVersion = String(this.revision);
    this.emit('DELETED', storageKey, last, prev);
    return last;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Events after `rv` for a storage key; throws 410 Expired when rv predates the history. */
  eventsSince(rv: number, storageKey: string): StoredEvent[] {
    this.assertResumable(rv);
    return this.history.filter((e) => e.rv > rv && e.storageKey === storageKey);
  }

  assertResumable(rv: number): void {
    if (rv < this.oldestResumable) {
      throw resourceExpired(`too old resource version: ${rv} (${this.oldestResumable})`);
    }
  }

  /** The objects of a storage key as they were at revision rv (for exact lists and continue tokens). */
  listAt(rv: number, storageKey: string, namespace?: string): JsonObject[] {
    this.assertResumable(rv);
    const state = new Map<string, JsonObject>();
    for (const o of this.list(storageKey)) state.set(keyOf(o), o);
    for (let i = this.history.length - 1; i >= 0; i--) {
      const e = this.history[i]!;
      if (e.rv <= rv) break;
      if (e.storageKey !== storageKey) continue;
      const k = `${e.namespace}/${e.name}`;
      if (e.type === 'ADDED') state.delete(k);
      else if (e.prev) state.set(k, clone(e.prev));
    }
    return [...state.values()]
      .filter((o) => namespace === undefined || meta(o).namespace === namespace)
      .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  /** Forgets all history: any watch or exact list from an older revision now gets 410. */
  compact(): number {
    this.history = [];
    this.oldestResumable = this.revision;
    return this.revision;
  }
}

export function keyOf(o: JsonObject): string {
  const m = meta(o);
  return `${String(m.namespace ?? '')}/${String(m.name)}`;
}
