import { Metrics } from '../metrics.ts';
import { type RedisCluster, withTimeout } from '../redis.ts';

export interface DenyListOptions {
  /**
   * The Redis Cluster, which every service reads. Without it the list is kept in this process: a
   * revocation then only counts in the process that made it (other services see it when the token expires).
   */
  redis?: RedisCluster | undefined;
  prefix?: string;
  timeoutMs?: number;
  /**
   * What `isDenied` answers when Redis fails. Access tokens are short-lived, so the default keeps serving
   * (`allow`) and counts it; `deny` refuses every token while Redis is out.
   */
  onError?: 'allow' | 'deny';
  metrics?: Metrics;
}

/**
 * Revoked token ids (jti) in Redis, each kept only as long as its token could still be presented.
 */
export function createDenyList(options: DenyListOptions): DenyList {
  const prefix = options.prefix ?? '';
  const timeoutMs = options.timeoutMs ?? 250;
  const metrics = options.metrics ?? new Metrics({ service: 'souk', defaultMetrics: false });
  const errors = metrics.counter(
    'souk_auth_deny_list_errors_total',
    'Deny-list lookups that failed because Redis did not answer',
  );
  const keyOf = (jti: string) => `${prefix}deny:{${jti}}`;
  if (!options.redis) return localDenyList();
  const redis = options.redis;
  return {
    /** Revokes `jti` until `expiresAt` (seconds since the epoch), after which the token is dead anyway. */
    async deny(jti: string, expiresAt: number): Promise<void> {
      const ttlMs = expiresAt * 1000 - Date.now();
      if (ttlMs <= 0) return;
      await withTimeout(redis.set(keyOf(jti), '1', 'PX', Math.ceil(ttlMs)), timeoutMs * 4);
    },
    async isDenied(jti: string): Promise<boolean> {
      try {
        return (await withTimeout(redis.exists(keyOf(jti)), timeoutMs)) === 1;
      } catch {
        errors.inc();
        return options.onError === 'deny';
      }
    },
  };
}

export interface DenyList {
  /** Revokes `jti` until `expiresAt` (seconds since the epoch), after which the token is dead anyway. */
  deny(jti: string, expiresAt: number): Promise<void>;
  isDenied(jti: string): Promise<boolean>;
}

/** Revoked ids in this process's memory, each dropped once its token has expired. */
function localDenyList(): DenyList {
  const until = new Map<string, number>();
  const sweep = (now: number) => {
    for (const [jti, expiresMs] of until) if (expiresMs <= now) until.delete(jti);
  };
  return {
    async deny(jti, expiresAt) {
      const now = Date.now();
      if (expiresAt * 1000 <= now) return;
      sweep(now);
      until.set(jti, expiresAt * 1000);
    },
    async isDenied(jti) {
      return (until.get(jti) ?? 0) > Date.now();
    },
  };
}
