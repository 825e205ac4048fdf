import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './object.ts';
import {
  collectionPath,
  type GroupVersionKind,
  groupVersionPath,
  objectPath,
  type ResourceInfo,
  resourceFor,
} from './resources.ts';

/** A failed API call, carrying the apiserver's Status (code, reason, message, details.causes). */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: { details?: { causes?: { field?: string; message?: string; reason?: string }[] } },
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.code === 409;
export const isGone = (e: unknown) => e instanceof ApiError && e.code === 410;
export const isInvalid = (e: unknown) => e instanceof ApiError && (e.code === 422 || e.code === 400);

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
}

export interface ObjectList {
  metadata: { resourceVersion?: string; continue?: string };
  items: KubeObject[];
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  subresource?: 'status';
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Inactivity timeout of the socket (ms). */
  timeoutMs?: number;
}

const AUTH_REFRESH_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A small REST client for any kind. It speaks plain JSON over one keep-alive agent, takes TLS and credentials
 * from a KubeConfig (@kubernetes/client-node), and refreshes the credentials periodically so rotated
 * service-account tokens are picked up.
 */
export class KubeClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private headers: Record<string, string> = {};
  private headersAt = 0;
  private tls: https.RequestOptions = {};

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.base = new URL(cluster.server);
    const secure = this.base.protocol === 'https:';
    this.agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 64 })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  private async auth(): Promise<void> {
    if (Date.now() - this.headersAt < AUTH_REFRESH_MS) return;
    const opts: https.RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') h[k] = v;
    this.headers = h;
    const { ca, cert, key, rejectUnauthorized, servername } = opts;
    this.tls = { ca, cert, key, servername };
    if (rejectUnauthorized !== undefined) this.tls.rejectUnauthorized = rejectUnauthorized;
    if (opts.auth) this.tls.auth = opts.auth;
    this.headersAt = Date.now();
  }

  private async send(method: string, path: string, o: RequestOptions = {}): Promise<http.IncomingMessage> {
    await this.auth();
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(o.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers };
    if (body !== undefined) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        { method, headers, agent: this.agent, signal: o.signal, ...this.tls },
        resolve,
      );
      req.on('error', reject);
      // A connection that goes silent (no FIN, no data) must not hold a worker or a watch forever.
      req.setTimeout(o.timeoutMs ?? REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`${method} ${path}: timed out`)),
      );
      req.end(body);
    });
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, o);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw toApiError(code, text, `${method} ${path}`);
  }

  async get<T extends KubeObject = KubeObject>(
    g: GroupVersionKind,
    namespace: string | undefined,
    name: string,
  ) {
    try {
      return await this.request<T>('GET', objectPath(resourceFor(g), namespace, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list(g: GroupVersionKind, o: ListOptions = {}): Promise<ObjectList> {
    const info = resourceFor(g);
    const list = await this.request<ObjectList>('GET', collectionPath(info, o.namespace), {
      query: {
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        resourceVersion: o.resourceVersion,
        limit: o.limit,
        continue: o.continue,
      },
    });
    // Items in a list carry no apiVersion/kind; the cache wants whole objects.
    for (const item of list.items ?? []) {
      item.apiVersion = info.apiVersion;
      item.kind = info.kind;
    }
    list.items ??= [];
    return list;
  }

  /**
   * Opens a watch and calls onEvent per event until the server closes the stream, the signal aborts, or the
   * connection fails (rejects). The caller resumes from the last resourceVersion it saw.
   */
  async watch(
    g: GroupVersionKind,
    o: ListOptions & { timeoutSeconds?: number; signal?: AbortSignal },
    onEvent: (e: WatchEvent) => void,
  ): Promise<void> {
    const info = resourceFor(g);
    const res = await this.send('GET', collectionPath(info, o.namespace), {
      signal: o.signal,
      // The server ends the watch after timeoutSeconds; silence well beyond that means a dead connection.
      timeoutMs: ((o.timeoutSeconds ?? 600) + 60) * 1000,
      query: {
        watch: 1,
        allowWatchBookmarks: true,
        resourceVersion: o.resourceVersion,
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        timeoutSeconds: o.timeoutSeconds,
      },
    });
    const code = res.statusCode ?? 0;
    if (code !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw toApiError(code, Buffer.concat(chunks).toString('utf8'), `WATCH ${info.plural}`);
    }
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) {
            const ev = JSON.parse(line) as WatchEvent;
            if (ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') {
              ev.object.apiVersion ??= info.apiVersion;
              ev.object.kind ??= info.kind;
            }
            onEvent(ev);
          }
          nl = buf.indexOf('\n');
        }
      }
    } catch (e) {
      if (o.signal?.aborted) return;
      throw e;
    }
  }

  /** Server-side apply: the object states every field this manager owns; fields it drops are released. */
  async apply<T extends KubeObject>(obj: T, o: ApplyOptions): Promise<T> {
    const info = resourceFor(obj);
    return this.request<T>(
      'PATCH',
      objectPath(info, obj.metadata.namespace, obj.metadata.name, o.subresource),
      {
        query: { fieldManager: o.fieldManager, force: o.force ?? true },
        body: obj,
        contentType: 'application/apply-patch+yaml',
      },
    );
  }

  async mergePatch<T extends KubeObject = KubeObject>(
    g: GroupVersionKind,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    o: { subresource?: 'status'; fieldManager?: string } = {},
  ): Promise<T> {
    return this.request<T>('PATCH', objectPath(resourceFor(g), namespace, name, o.subresource), {
      query: { fieldManager: o.fieldManager },
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  async create<T extends KubeObject>(obj: T, o: { fieldManager?: string } = {}): Promise<T> {
    const info = resourceFor(obj);
    return this.request<T>(
      'POST',
      collectionPath(info, info.namespaced ? obj.metadata.namespace : undefined),
      {
        query: { fieldManager: o.fieldManager },
        body: obj,
      },
    );
  }

  async update<T extends KubeObject>(
    obj: T,
    o: { fieldManager?: string; subresource?: 'status' } = {},
  ): Promise<T> {
    const info = resourceFor(obj);
    return this.request<T>(
      'PUT',
      objectPath(info, obj.metadata.namespace, obj.metadata.name, o.subresource),
      {
        query: { fieldManager: o.fieldManager },
        body: obj,
      },
    );
  }

  /** Deletes; a missing object counts as deleted. Children are left to the garbage collector (Background). */
  async delete(
    g: GroupVersionKind,
    namespace: string | undefined,
    name: string,
    o: { uid?: string; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ): Promise<boolean> {
    try {
      await this.request('DELETE', objectPath(resourceFor(g), namespace, name), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: o.propagationPolicy ?? 'Background',
          ...(o.uid ? { preconditions: { uid: o.uid } } : {}),
        },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /** Whether the server serves a kind (discovery), e.g. to create ServiceMonitors only when that CRD exists. */
  async serves(g: GroupVersionKind): Promise<boolean> {
    try {
      const list = await this.request<{ resources?: { kind: string }[] }>(
        'GET',
        groupVersionPath(g.apiVersion),
      );
      return (list.resources ?? []).some((r) => r.kind === g.kind);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  resource(g: GroupVersionKind): ResourceInfo {
    return resourceFor(g);
  }

  close(): void {
    this.agent.destroy();
  }
}

function toApiError(code: number, text: string, what: string): ApiError {
  try {
    const s = JSON.parse(text) as {
      reason?: string;
      message?: string;
      details?: { causes?: { field?: string }[] };
    };
    return new ApiError(code, s.reason ?? 'Unknown', s.message ?? `${what}: HTTP ${code}`, s);
  } catch {
    return new ApiError(code, 'Unknown', `${what}: HTTP ${code} ${text.slice(0, 200)}`);
  }
}
