import { Metrics } from '../metrics.ts';
import { type RedisCluster, withTimeout } from '../redis.ts';

export interface DenyListOptions {
  redis: RedisCluster;
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
export function createDenyList(options: DenyListOptions) {
  const prefix = options.prefix ?? '';
  const timeoutMs = options.timeoutMs ?? 250;
  const metrics = options.metrics ?? new Metrics({ service: 'souk', defaultMetrics: false });
  const errors = metrics.counter(
    'souk_auth_deny_list_errors_total',
    'Deny-list lookups that failed because Redis did not answer',
  );
  const keyOf = (jti: string) => `${prefix}deny:{${jti}}`;
  return {
    /** Revokes `jti` until `expiresAt` (seconds since the epoch), after which the token is dead anyway. */
    async deny(jti: string, expiresAt: number): Promise<void> {
      const ttlMs = expiresAt * 1000 - Date.now();
      if (ttlMs <= 0) return;
      await withTimeout(options.redis.set(keyOf(jti), '1', 'PX', Math.ceil(ttlMs)), timeoutMs * 4);
    },
    async isDenied(jti: string): Promise<boolean> {
      try {
        return (await withTimeout(options.redis.exists(keyOf(jti)), timeoutMs)) === 1;
      } catch {
        errors.inc();
        return options.onError === 'deny';
      }
    },
  };
}

export type DenyList = ReturnType<typeof createDenyList>;
