import { Cluster, type ClusterOptions } from 'ioredis';

export interface RedisClusterOptions {
  /** Per-command timeout on a node connection; a dead node must not hold a request. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Redirections followed per command. A failover with `cluster-node-timeout 1000` takes 2.2–2.8 s, longer
   * than ioredis's default 16 × 100 ms, so the default here covers about 6 s.
   */
  maxRedirections?: number;
  /** Extra ioredis options, applied last. */
  overrides?: ClusterOptions;
}

export type RedisCluster = Cluster;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisNodes = string | (string | RedisNodeAddress)[];

/** `host:port` list, comma separated (e.g. SOUK_REDIS_NODES) or as an array. */
export function parseRedisNodes(nodes: RedisNodes): RedisNodeAddress[] {
  const list = Array.isArray(nodes) ? nodes : nodes.split(',');
  return list
    .map((n) => (typeof n === 'string' ? n.trim() : `${n.host}:${n.port}`))
    .filter(Boolean)
    .map((n) => {
      const i = n.lastIndexOf(':');
      return i < 0 ? { host: n, port: 6379 } : { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
    });
}

/**
 * A Redis Cluster client tuned to fail fast rather than queue: with the cluster unreachable, commands
 * are rejected at once (no offline queue) and a command on a dead node times out, so callers can fall
 * back (cache → database) instead of hanging. Topology changes after a failover are followed by
 * retrying MOVED/CLUSTERDOWN long enough for a replica to take over.
 */
export function createRedisCluster(nodes: RedisNodes, options: RedisClusterOptions = {}): RedisCluster {
  const cluster = new Cluster(parseRedisNodes(nodes), {
    enableOfflineQueue: false,
    enableReadyCheck: true,
    scaleReads: 'master',
    maxRedirections: options.maxRedirections ?? 30,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    retryDelayOnMoved: 0,
    slotsRefreshTimeout: 1_000,
    slotsRefreshInterval: 2_000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1_000),
    redisOptions: {
      connectTimeout: options.connectTimeoutMs ?? 1_000,
      commandTimeout: options.commandTimeoutMs ?? 500,
      maxRetriesPerRequest: 1,
      autoResubscribe: false,
    },
    ...options.overrides,
  });
  // Errors surface on the commands that hit them; an unhandled 'error' event would crash the process.
  cluster.on('error', () => {});
  // ioredis re-arms its slots-refresh timer when a refresh that began before quit()/disconnect()
  // ends after it; the closed client then refreshes every slotsRefreshInterval for ever and keeps
  // the process alive. A closed client starts no refresh, so that chain ends.
  const internals = cluster as unknown as { refreshSlotsCache(callback?: (error?: Error) => void): void };
  const refresh = internals.refreshSlotsCache.bind(cluster);
  internals.refreshSlotsCache = (callback) => {
    if (cluster.status !== 'end') refresh(callback);
  };
  return cluster;
}

/** Resolves once the cluster client has loaded the slot map (commands fail fast before that). */
export function redisReady(cluster: RedisCluster, timeoutMs = 10_000): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      cleanup();
      fail(new Error(`redis cluster not ready after ${timeoutMs} ms (status ${cluster.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      done();
    };
    const cleanup = () => {
      clearTimeout(timer);
      cluster.off('ready', onReady);
    };
    cluster.on('ready', onReady);
  });
}

/** Rejects after `ms` unless `promise` settles first; the late result is dropped, never unhandled. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'redis command'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => {});
  return Promise.race([
    promise,
    new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Closes gracefully (QUIT) when the cluster answers, else drops the connections. */
export async function closeRedisCluster(cluster: RedisCluster, timeoutMs = 1_000): Promise<void> {
  try {
    await withTimeout(cluster.quit(), timeoutMs, 'redis quit');
  } catch {
    cluster.disconnect();
  }
}
