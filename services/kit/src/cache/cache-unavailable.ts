export const CACHE_UNAVAILABLE = 'CACHE_UNAVAILABLE';

/**
 * Redis could not take a cache invalidation (down, failing over, timed out). Unlike a failed read,
 * which falls back to the database, a lost invalidation leaves a stale entry until its TTL: callers
 * that must not lose one (event consumers) retry it. The classifier in transient-error.ts knows it.
 */
export class CacheUnavailableError extends Error {
  readonly code = CACHE_UNAVAILABLE;

  constructor(cause: unknown) {
    super(`cache invalidation failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'CacheUnavailableError';
  }
}
