import type { Logger } from 'pino';
import { Cache } from './cache.ts';
import { ApiError, isGone, type KubeClient, type WatchEvent } from './client.ts';
import { type KubeObject, objectKey } from './object.ts';
import type { GroupVersionKind } from './resources.ts';

export interface EventHandler<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Every period, every cached object is delivered again as an update: the safety net of a level-based design. */
  resyncMs?: number;
  pageSize?: number;
  log: Logger;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Keeps a Cache of one kind in line with the apiserver: list once, then watch from the list's resourceVersion.
 *
 * Why it can lose events and still be correct: controllers are level-based. A handler only learns "this key
 * may have changed", never what changed, and the reconcile reads the current state from the cache. So:
 * - a dropped watch resumes from the last resourceVersion seen (bookmarks keep that fresh on quiet kinds);
 * - when that version is too old (410 Gone, history compacted) it relists, and the diff between the old
 *   cache and the new list is delivered as adds, updates and deletes;
 * - a periodic resync delivers every object again, so a missed or mishandled event is repaired in one period.
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly cache = new Cache<T>();
  private readonly handlers: EventHandler<T>[] = [];
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Counters for tests and diagnostics. */
  readonly stats = { lists: 0, watches: 0, gone: 0, bookmarks: 0, events: 0 };

  constructor(
    private readonly client: KubeClient,
    readonly gvk: GroupVersionKind,
    private readonly opts: InformerOptions,
  ) {}

  /** Handlers added after the first sync get the current objects as adds, so no controller misses them. */
  addHandler(h: EventHandler<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.list()) h.onAdd?.(o);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.loop;
  }

  resync(): void {
    for (const o of this.cache.list()) for (const h of this.handlers) h.onUpdate?.(o, o);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        await this.client.watch(
          this.gvk,
          {
            namespace: this.opts.namespace,
            labelSelector: this.opts.labelSelector,
            resourceVersion: this.resourceVersion,
            timeoutSeconds: 300 + Math.floor(Math.random() * 300),
            signal,
          },
          (e) => this.onWatchEvent(e),
        );
        this.stats.watches++;
        failures = 0;
      } catch (e) {
        if (signal.aborted) break;
        if (isGone(e)) {
          // Our resourceVersion fell out of the server's history: only a fresh list can tell what we missed.
          this.stats.gone++;
          this.opts.log.info({ kind: this.gvk.kind }, 'watch expired (410 Gone), relisting');
          this.resourceVersion = undefined;
          continue;
        }
        failures++;
        const delay = Math.min(30_000, 200 * 2 ** Math.min(failures, 8)) * (0.5 + Math.random() / 2);
        this.opts.log.warn(
          { kind: this.gvk.kind, err: (e as Error).message, delay },
          'watch failed, retrying',
        );
        await sleep(delay, signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv: string | undefined;
    const fresh: T[] = [];
    do {
      const page = await this.client.list(this.gvk, {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        limit: this.opts.pageSize ?? 500,
        continue: cont,
      });
      for (const item of page.items) fresh.push(item as T);
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    this.stats.lists++;
    for (const obj of fresh) {
      seen.add(objectKey(obj));
      this.store(obj);
    }
    for (const key of this.cache.keys()) {
      if (seen.has(key)) continue;
      const old = this.cache.remove(key);
      if (old) for (const h of this.handlers) h.onDelete?.(old);
    }
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private store(obj: T): void {
    // managedFields are for the apiserver; dropping them from the cache roughly halves its memory.
    delete (obj.metadata as { managedFields?: unknown }).managedFields;
    const old = this.cache.upsert(obj);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, obj);
      else h.onAdd?.(obj);
    }
  }

  private onWatchEvent(e: WatchEvent): void {
    this.stats.events++;
    switch (e.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.store(e.object as T);
        break;
      case 'DELETED': {
        const old = this.cache.remove(objectKey(e.object));
        for (const h of this.handlers) h.onDelete?.((old ?? e.object) as T);
        break;
      }
      case 'BOOKMARK':
        this.stats.bookmarks++;
        break;
      case 'ERROR': {
        const s = e.object;
        throw new ApiError(s.code ?? 500, s.reason ?? 'Unknown', s.message ?? 'watch error');
      }
    }
    const rv = e.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }
}
