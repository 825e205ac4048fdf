/**
 * Failures of a dependency rather than of the work sent to it. The database could not be reached,
 * dropped the connection, is shutting down or starting, became a read-only standby (failover), or
 * picked this transaction as the loser of a deadlock, serialization conflict or lock wait; or the
 * cache's Redis could not take an invalidation (`CacheUnavailableError`). Trying the same work again
 * later is the fix, so callers retry these without counting them as the work's own failures.
 */
import { CACHE_UNAVAILABLE } from './cache/cache-unavailable.ts';

/** Prisma's codes: unreachable, timed out, closed, pool timeout, transaction start, write conflict, too many connections. */
const PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034', 'P2037']);

/** SQLSTATEs: 40001 serialization, 40P01 deadlock, 55P03 lock timeout, 25006 read-only (after failover), 53300 too many connections, 57P01-57P03 shutdown/starting. Class 08 (connection exception) is matched as a class. */
const SQLSTATE = new Set(['40001', '40P01', '55P03', '25006', '53300', '57P01', '57P02', '57P03']);

/** Socket errors of node (and pg's own connect timeout). */
const SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** The driver adapter's kinds (`DriverAdapterError.cause.kind`) that mean the same. */
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TransactionWriteConflict',
  'TooManyConnections',
]);

/** Errors pg raises without a code when a connection dies or cannot be had from the pool. */
const PG_MESSAGES =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect)$/;

/** Prisma's "could not start a transaction in time": the pool had no connection to give. */
const TRANSACTION_START = /Unable to start a transaction in the given time/;

/**
 * The code that makes `error` transient (a Prisma code, SQLSTATE, socket code, adapter kind, or
 * `connection` for pg's codeless connection errors, `CACHE_UNAVAILABLE`), or undefined when it is not: a failure of the
 * work itself. Looks through `cause`, Prisma's `meta.driverAdapterError` and AggregateErrors.
 */
export function transientErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const found = ownCode(e as Record<string, unknown>);
    if (found) return found;
    const r = e as { cause?: unknown; errors?: unknown; meta?: { driverAdapterError?: unknown } };
    queue.push(r.cause, r.meta?.driverAdapterError);
    if (Array.isArray(r.errors)) queue.push(...r.errors);
  }
  return undefined;
}

export function isTransientError(error: unknown): boolean {
  return transientErrorCode(error) !== undefined;
}

function ownCode(e: Record<string, unknown>): string | undefined {
  for (const key of ['code', 'originalCode'] as const) {
    const code = e[key];
    if (typeof code !== 'string') continue;
    if (PRISMA.has(code) || SQLSTATE.has(code) || SOCKET.has(code) || code === CACHE_UNAVAILABLE) return code;
    if (/^08[0-9A-Z]{3}$/.test(code)) return code;
    if (code === 'P2028' && typeof e.message === 'string' && TRANSACTION_START.test(e.message)) return code;
  }
  if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return e.kind;
  if (typeof e.message === 'string' && e.code === undefined && PG_MESSAGES.test(e.message)) {
    return 'connection';
  }
  return undefined;
}
