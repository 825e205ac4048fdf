/**
 * An in-process Kubernetes API server for tests, speaking the real wire protocol over HTTP so
 * that @kubernetes/client-node (and kubectl) work against it unchanged. See README.md.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { BuiltinSchemas } from './builtin-schema.ts';
import { CrdController } from './crd.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.ts';
import {
  badRequest,
  internalError,
  methodNotSupported,
  notAcceptable,
  StatusError,
  unsupportedMediaType,
} from './errors.ts';
import { GarbageCollector } from './gc.ts';
import { Kubelet, type KubeletOptions } from './kubelet.ts';
import { NamespaceController } from './namespaces.ts';
import { type DeleteOptions, type FieldValidation, type PropagationPolicy, Registry } from './registry.ts';
import { apiVersionOf, builtinResourceTypes, ResourceRegistry, type ResourceType } from './resources.ts';
import { readScale, writeScale } from './scale.ts';
import { isObject, type Json, type JsonObject } from './schema.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { Storage } from './storage.ts';
import { WatchHub } from './watch.ts';

export interface KubeApiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** How many changes the store keeps for watch resumption before older revisions answer 410. */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them (the real server: about a minute). */
  bookmarkIntervalMs?: number;
  kubelet?: KubeletOptions;
  /** Namespaces present at start besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  contentType?: string;
  status: number;
}

export interface KubeApiServer {
  url: string;
  port: number;
  /** A KubeConfig pointing at this server (context namespace defaults to "default"). */
  kubeConfig(namespace?: string): KubeConfig;
  stop(): Promise<void>;
  kubelet: Kubelet;
  /** Forgets the watch history: resuming from any older resourceVersion now answers 410. */
  compact(): number;
  /** Ends every open watch (abrupt: reset the connections instead). Returns how many. */
  dropWatches(opts?: { abrupt?: boolean }): number;
  /** Sends a BOOKMARK now on every watch that allows bookmarks. */
  bookmark(): void;
  /** Number of open watch connections. */
  watchCount(): number;
  /** Stored objects, optionally of one kind ("Deployment", "deployments", "deployments.apps"). */
  objects(kind?: string, namespace?: string): JsonObject[];
  /** One stored object, or undefined. */
  object(kind: string, namespace: string, name: string): JsonObject | undefined;
  /** The current global resourceVersion. */
  resourceVersion(): number;
  /** Requests served so far (method, path, status), oldest first. */
  requests(): RequestRecord[];
  registry: Registry;
}

const JSON_TYPE = 'application/json';

function send(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Audit-Id': randomUUID(),
    'Cache-Control': 'no-cache, private',
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(text),
    ...(warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {}),
  });
  res.end(text);
}

function fieldValidationOf(q: URLSearchParams): FieldValidation | undefined {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return undefined;
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw badRequest(
      `fieldValidation: Invalid value: ${JSON.stringify(v)}: fieldValidation must be one of "Ignore", "Warn", "Strict"`,
    );
  }
  return v;
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof StatusError ? err : internalError(err);
  send(res, e.code, e.status);
}

function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function mediaType(h: string | undefined): string {
  return (h ?? '').split(';')[0]!.trim().toLowerCase();
}

function checkAccept(req: IncomingMessage): void {
  const accept = req.headers.accept;
  if (!accept) return;
  const ok = accept.split(',').some((part) => {
    const t = mediaType(part);
    return t === '*/*' || t === 'application/*' || t === JSON_TYPE || t === 'application/json;stream=watch';
  });
  if (!ok) {
    throw notAcceptable(
      'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  }
}

function decodeObject(contentType: string, body: string): Json {
  const t = mediaType(contentType) || JSON_TYPE;
  if (t !== JSON_TYPE && t !== 'application/yaml') {
    throw unsupportedMediaType(contentType, [
      JSON_TYPE,
      'application/yaml',
      'application/vnd.kubernetes.protobuf',
    ]);
  }
  try {
    return (t === JSON_TYPE ? JSON.parse(body) : parseYaml(body)) as Json;
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function dryRunOf(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dry run value: ${v}`);
  return values.length > 0;
}

function deleteOptionsOf(q: URLSearchParams, body: string): DeleteOptions {
  const opts: DeleteOptions = {};
  if (body.trim()) {
    let b: Json;
    try {
      b = JSON.parse(body) as Json;
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
    if (isObject(b)) {
      if (typeof b.propagationPolicy === 'string')
        opts.propagationPolicy = b.propagationPolicy as PropagationPolicy;
      if (typeof b.orphanDependents === 'boolean') opts.orphanDependents = b.orphanDependents;
      if (typeof b.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = b.gracePeriodSeconds;
      if (isObject(b.preconditions)) opts.preconditions = b.preconditions as DeleteOptions['preconditions'];
      if (Array.isArray(b.dryRun) && b.dryRun.length > 0) opts.dryRun = true;
    }
  }
  const pp = q.get('propagationPolicy');
  if (pp) opts.propagationPolicy = pp as PropagationPolicy;
  const od = q.get('orphanDependents');
  if (od !== null) opts.orphanDependents = od === 'true';
  const gp = q.get('gracePeriodSeconds');
  if (gp !== null) opts.gracePeriodSeconds = Number(gp);
  if (dryRunOf(q)) opts.dryRun = true;
  return opts;
}

interface Route {
  t: ResourceType;
  namespace: string | undefined;
  name?: string;
  subresource?: string;
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const resources = new ResourceRegistry(builtinResourceTypes());
  const storage = new Storage(options.historyLimit ?? 10_000);
  const registry = new Registry(resources, storage, await BuiltinSchemas.load(resources.all()));
  const watches = new WatchHub(storage, options.bookmarkIntervalMs ?? 5_000, (t, o) =>
    registry.present(t, o),
  );
  const crds = new CrdController(registry);
  resources.onChange(() =>
    watches.closeUnserved((t) => resources.get(t.group, t.version, t.plural) !== undefined),
  );
  const gc = new GarbageCollector(registry);
  const namespaces = new NamespaceController(registry);
  const kubelet = new Kubelet(registry, options.kubelet);
  const log: RequestRecord[] = [];
  const nsType = resources.get('', 'v1', 'namespaces')!;
  for (const ns of [
    'default',
    'kube-system',
    'kube-public',
    'kube-node-lease',
    ...(options.namespaces ?? []),
  ]) {
    registry.create(
      nsType,
      '',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      { fieldManager: 'kube-apiserver' },
    );
  }

  let serverAddress = '';

  function route(segments: string[], group: string, version: string): Route | undefined {
    const lookup = (plural: string) => resources.get(group, version, plural);
    const [a, b, c, d, e] = segments;
    if (a === 'namespaces' && b !== undefined && c !== undefined) {
      const t = lookup(c);
      if (t?.namespaced && segments.length <= 5) return { t, namespace: b, name: d, subresource: e };
    }
    if (a === undefined) return undefined;
    const t = lookup(a);
    if (!t || segments.length > 3) return undefined;
    return { t, namespace: t.namespaced ? undefined : '', name: b, subresource: c };
  }

  async function handleResource(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams) {
    const { t } = r;
    const method = req.method ?? 'GET';
    const gr = { group: t.group, resource: t.plural };
    const fieldManager = q.get('fieldManager') ?? undefined;
    const warnings: string[] = [];
    const fieldValidation = fieldValidationOf(q);
    const userAgent = req.headers['user-agent'];
    const namespace = r.namespace ?? '';
    if (r.subresource !== undefined) {
      const ok =
        (r.subresource === 'status' && t.statusSubresource) ||
        (r.subresource === 'scale' && t.scale !== undefined) ||
        (r.subresource === 'finalize' && t.group === '' && t.kind === 'Namespace' && method === 'PUT');
      if (!ok || !r.name) throw notFoundPath();
    }
    const subresource = r.subresource ?? '';
    if (r.name === undefined) {
      if (method === 'GET') {
        const watch = q.get('watch');
        if (watch === 'true' || watch === '1') {
          const timeout = q.get('timeoutSeconds');
          watches.serve(
            t,
            {
              namespace: t.namespaced ? r.namespace : undefined,
              resourceVersion: q.get('resourceVersion') ?? undefined,
              allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
              sendInitialEvents: q.get('sendInitialEvents') === 'true',
              ...(timeout ? { timeoutSeconds: Number(timeout) } : {}),
              labelSelector: parseLabelSelector(q.get('labelSelector')),
              fieldSelector: parseFieldSelector(q.get('fieldSelector'), t.kind),
            },
            res,
          );
          return;
        }
        const limit = q.get('limit');
        send(
          res,
          200,
          registry.list(t, r.namespace, {
            labelSelector: q.get('labelSelector') ?? undefined,
            fieldSelector: q.get('fieldSelector') ?? undefined,
            ...(limit ? { limit: Number(limit) } : {}),
            continue: q.get('continue') ?? undefined,
            resourceVersion: q.get('resourceVersion') ?? undefined,
            resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
          }),
        );
        return;
      }
      if (method === 'POST') {
        if (t.namespaced && r.namespace === undefined) throw methodNotSupported(gr, 'create');
        const body = decodeObject(req.headers['content-type'] ?? '', await readBody(req));
        const created = registry.create(t, namespace, body, {
          fieldManager,
          userAgent,
          dryRun: dryRunOf(q),
          fieldValidation,
          warnings,
        });
        send(res, 201, created, warnings);
        return;
      }
      if (method === 'DELETE') {
        const opts = deleteOptionsOf(q, await readBody(req));
        send(
          res,
          200,
          registry.deleteCollection(
            t,
            r.namespace,
            {
              labelSelector: q.get('labelSelector') ?? undefined,
              fieldSelector: q.get('fieldSelector') ?? undefined,
            },
            opts,
          ),
        );
        return;
      }
      throw methodNotSupported(gr, method);
    }
    const name = r.name;
    if (subresource === 'scale') {
      if (method === 'GET') send(res, 200, readScale(registry, t, namespace, name));
      else if (method === 'PUT' || method === 'PATCH') {
        const raw = await readBody(req);
        const contentType = req.headers['content-type'] ?? '';
        const scale = writeScale(registry, t, namespace, name, {
          ...(method === 'PUT'
            ? { body: decodeObject(contentType, raw) }
            : { patch: { contentType: mediaType(contentType), raw } }),
          fieldManager,
          userAgent,
          dryRun: dryRunOf(q),
        });
        send(res, 200, scale);
      } else throw methodNotSupported(gr, method);
      return;
    }
    switch (method) {
      case 'GET':
        send(res, 200, registry.get(t, namespace, name));
        return;
      case 'PUT': {
        const body = decodeObject(req.headers['content-type'] ?? '', await readBody(req));
        send(
          res,
          200,
          registry.update(t, namespace, name, body, {
            fieldManager,
            userAgent,
            subresource,
            dryRun: dryRunOf(q),
            fieldValidation,
            warnings,
          }),
          warnings,
        );
        return;
      }
      case 'PATCH': {
        const force = q.get('force');
        const { object, created } = registry.patch(
          t,
          namespace,
          name,
          mediaType(req.headers['content-type']),
          await readBody(req),
          {
            fieldManager,
            userAgent,
            subresource,
            dryRun: dryRunOf(q),
            fieldValidation,
            warnings,
            ...(force !== null ? { force: force === 'true' } : {}),
          },
        );
        send(res, created ? 201 : 200, object, warnings);
        return;
      }
      case 'DELETE': {
        const opts = deleteOptionsOf(q, await readBody(req));
        const out = registry.delete(t, namespace, name, opts);
        const pending = out.kind !== 'Status' && isObject(out.metadata) && !!out.metadata.deletionTimestamp;
        send(res, pending && opts.orphanDependents === false ? 202 : 200, out);
        return;
      }
      default:
        throw methodNotSupported(gr, method);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const q = url.searchParams;
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const method = req.method ?? 'GET';
    checkAccept(req);
    if (segments.length === 1 && ['healthz', 'livez', 'readyz'].includes(segments[0]!)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (segments[0] === 'version' && segments.length === 1) {
      send(res, 200, {
        major: '1',
        minor: '33',
        gitVersion: 'v1.33.0',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2025-04-23T00:00:00Z',
        goVersion: 'go1.24.2',
        compiler: 'gc',
        platform: 'linux/amd64',
      });
      return;
    }
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api') {
      if (segments.length === 1) return send(res, 200, apiVersions(serverAddress));
      group = '';
      version = segments[1]!;
      rest = segments.slice(2);
    } else if (segments[0] === 'apis') {
      if (segments.length === 1) return send(res, 200, apiGroupList(resources));
      if (segments.length === 2) {
        const g = apiGroup(resources, segments[1]!);
        if (!g) throw notFoundPath();
        return send(res, 200, g);
      }
      group = segments[1]!;
      version = segments[2]!;
      rest = segments.slice(3);
    } else {
      res.writeHead(404, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end('404 page not found\n');
      return;
    }
    if (rest.length === 0) {
      const list = apiResourceList(resources, group, version);
      if (!list) throw notFoundPath();
      return send(res, 200, list);
    }
    if (rest[0] === 'watch') {
      rest = rest.slice(1);
      q.set('watch', 'true');
    }
    const r = route(rest, group, version);
    if (
      !r ||
      (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE')
    ) {
      throw notFoundPath();
    }
    await handleResource(req, res, r, q);
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.on('finish', () => {
      log.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.search,
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
        status: res.statusCode,
      });
    });
    handle(req, res).catch((err) => {
      if (res.headersSent) res.destroy();
      else sendError(res, err);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  serverAddress = `${addr.address}:${addr.port}`;

  const findTypes = (kind: string): ResourceType[] => {
    const k = kind.toLowerCase();
    return resources
      .all()
      .filter(
        (t) =>
          t.kind.toLowerCase() === k ||
          t.plural === k ||
          `${t.plural}.${t.group}` === k ||
          `${apiVersionOf(t)}/${t.kind}`.toLowerCase() === k,
      );
  };

  return {
    url,
    port: addr.port,
    registry,
    kubelet,
    kubeConfig(namespace = 'default') {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'souk-test', server: url, skipTLSVerify: true }],
        users: [{ name: 'souk-test', token: 'souk-test-token' }],
        contexts: [{ name: 'souk-test', cluster: 'souk-test', user: 'souk-test', namespace }],
        currentContext: 'souk-test',
      });
      return kc;
    },
    async stop() {
      watches.dropAll(true);
      crds.stop();
      gc.stop();
      namespaces.stop();
      kubelet.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    compact: () => storage.compact(),
    dropWatches: (opts) => watches.dropAll(opts?.abrupt ?? false),
    bookmark: () => watches.bookmarkAll(),
    watchCount: () => watches.size,
    objects(kind, namespace) {
      const types = kind ? findTypes(kind) : resources.all();
      const seen = new Set<string>();
      const out: JsonObject[] = [];
      for (const t of types) {
        if (seen.has(t.storageKey)) continue;
        seen.add(t.storageKey);
        for (const o of storage.list(t.storageKey, namespace)) out.push(registry.present(t, o));
      }
      return out;
    },
    object(kind, namespace, name) {
      for (const t of findTypes(kind)) {
        const o = storage.get(t.storageKey, t.namespaced ? namespace : '', name);
        if (o) return registry.present(t, o);
      }
      return undefined;
    },
    resourceVersion: () => storage.currentRevision,
    requests: () => [...log],
  };
}
