/**
 * Watch streams: newline-delimited JSON WatchEvents (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR)
 * resumed from a resourceVersion out of the store's bounded history, with the API server's
 * answer to a compacted revision (an ERROR event carrying a 410 Expired Status, then close),
 * selector transitions (an object leaving a selector is DELETED for that watch), bookmarks,
 * sendInitialEvents and timeoutSeconds.
 */
import type { ServerResponse } from 'node:http';
import { StatusError } from './errors.ts';
import { apiVersionOf, type ResourceType } from './resources.ts';
import type { JsonObject } from './schema.ts';
import type { Selector } from './selectors.ts';
import type { Storage, StoredEvent } from './storage.ts';

export interface WatchParams {
  namespace: string | undefined;
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds?: number;
  labelSelector: Selector;
  fieldSelector: Selector;
}

interface Connection {
  t: ResourceType;
  res: ServerResponse;
  bookmark(): void;
  close(abrupt: boolean): void;
}

export class WatchHub {
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly storage: Storage,
    private readonly bookmarkIntervalMs: number,
    private readonly present: (t: ResourceType, o: JsonObject) => JsonObject,
  ) {}

  get size(): number {
    return this.connections.size;
  }

  serve(t: ResourceType, params: WatchParams, res: ServerResponse): void {
    const matches = (o: JsonObject | undefined) =>
      !!o &&
      (params.namespace === undefined || (o.metadata as JsonObject).namespace === params.namespace) &&
      params.labelSelector(o) &&
      params.fieldSelector(o);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const write = (type: string, object: unknown) => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const send = (type: string, o: JsonObject) => write(type, this.present(t, structuredClone(o)));
    const dispatch = (e: StoredEvent) => {
      if (e.storageKey !== t.storageKey) return;
      const now = matches(e.object);
      const before = matches(e.prev);
      if (e.type === 'ADDED' && now) send('ADDED', e.object);
      else if (e.type === 'MODIFIED') {
        if (now && before) send('MODIFIED', e.object);
        else if (now) send('ADDED', e.object);
        else if (before) send('DELETED', e.object);
      } else if (e.type === 'DELETED' && now) send('DELETED', e.object);
    };
    const bookmarkObject = (annotations?: Record<string, string>) => ({
      kind: t.kind,
      apiVersion: apiVersionOf(t),
      metadata: {
        resourceVersion: String(this.storage.currentRevision),
        ...(annotations ? { annotations } : {}),
      },
    });

    let unsubscribe = () => {};
    const timers: NodeJS.Timeout[] = [];
    const conn: Connection = {
      t,
      res,
      bookmark: () => {
        if (params.allowWatchBookmarks) write('BOOKMARK', bookmarkObject());
      },
      close: (abrupt) => {
        cleanup();
        if (abrupt) res.destroy();
        else if (!res.writableEnded) res.end();
      },
    };
    const cleanup = () => {
      unsubscribe();
      for (const tm of timers) clearTimeout(tm);
      this.connections.delete(conn);
    };
    res.on('close', cleanup);

    const rv = params.resourceVersion;
    if (!rv || rv === '0' || params.sendInitialEvents) {
      for (const o of this.storage.list(t.storageKey, t.namespaced ? params.namespace : undefined)) {
        if (matches(o)) send('ADDED', o);
      }
      if (params.sendInitialEvents && params.allowWatchBookmarks) {
        write('BOOKMARK', bookmarkObject({ 'k8s.io/initial-events-end': 'true' }));
      }
    } else {
      let history: StoredEvent[];
      try {
        history = this.storage.eventsSince(Number(rv), t.storageKey);
      } catch (err) {
        if (err instanceof StatusError) {
          write('ERROR', err.status);
          res.end();
          return;
        }
        throw err;
      }
      for (const e of history) dispatch(e);
    }
    unsubscribe = this.storage.subscribe(dispatch);
    this.connections.add(conn);
    if (params.allowWatchBookmarks && this.bookmarkIntervalMs > 0) {
      const tick = () => {
        conn.bookmark();
        timers[0] = setTimeout(tick, this.bookmarkIntervalMs);
      };
      timers[0] = setTimeout(tick, this.bookmarkIntervalMs);
    }
    if (params.timeoutSeconds !== undefined && params.timeoutSeconds > 0) {
      timers.push(setTimeout(() => conn.close(false), params.timeoutSeconds * 1000));
    }
  }

  /** Ends the watches of resources no longer served (a deleted CustomResourceDefinition). */
  closeUnserved(served: (t: ResourceType) => boolean): void {
    for (const c of [...this.connections]) if (!served(c.t)) c.close(false);
  }

  bookmarkAll(): void {
    for (const c of this.connections) c.bookmark();
  }

  /** Ends every open watch; abrupt resets the connections instead of finishing the responses. */
  dropAll(abrupt = false): number {
    const n = this.connections.size;
    for (const c of [...this.connections]) c.close(abrupt);
    return n;
  }
}
