import { PrismaPg } from '@prisma/adapter-pg';
import { readReplicas } from '@prisma/extension-read-replicas';
import pg from 'pg';
import type { Health } from '../health.ts';
import { Metrics } from '../metrics.ts';
import { migrate } from './migrate.ts';
import { type DbTarget, tracingExtension } from './tracing.ts';

/** What the factory needs from a generated `PrismaClient` class (the `prisma-client` generator). */
export interface PrismaClientLike {
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
  $extends(extension: object): unknown;
}

export type PrismaClientClass<C extends PrismaClientLike> = new (options: { adapter: PrismaPg }) => C;

/**
 * The routed client: model reads (findMany, findUnique, count, aggregate, groupBy…) go to a replica,
 * everything else (writes, raw queries, transactions) to the primary. `$replica()` / `$primary()` pick one
 * explicitly, e.g. for a read that must see its own write.
 */
export type RoutedClient<C> = C & { $primary(): C; $replica(): C };

export interface DatabaseOptions {
  /** The primary's connection string. */
  url: string;
  /** Read replicas; without any, reads go to the primary. */
  replicaUrls?: string[];
  /** The `prisma/migrations` folder, applied before returning when `migrate` says so. */
  migrationsDir?: string;
  /**
   * Apply the migrations at start. Default: only when NODE_ENV is `development` or `test` (pass
   * `config.NODE_ENV !== 'production'`); in production the migrate command runs them once per release.
   */
  migrate?: boolean;
  /** Connections per pool (one pool per server). */
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Server-side statement timeout, so a stuck query cannot hold a request forever. */
  statementTimeoutMs?: number;
  /** After a replica failed to connect, its reads go to the primary for this long (default 5 s). */
  replicaRetryMs?: number;
  metrics?: Metrics;
  /** Sessions show as `<name>-primary` / `<name>-replica` in pg_stat_activity. */
  applicationName?: string;
  log?: (message: string) => void;
}

export interface DatabaseCheck {
  status: 'ok' | 'degraded' | 'down';
  detail?: string;
}

export interface Database<C> {
  client: RoutedClient<C>;
  primary: C;
  replicas: C[];
  /** The underlying pools, for raw `pg` work and for checks. */
  pools: { primary: pg.Pool; replicas: pg.Pool[] };
  /** Readiness: the primary must answer; a lost replica only degrades (reads can be moved to the primary). */
  check(timeoutMs?: number): Promise<DatabaseCheck>;
  /** Adds `db` (critical: the primary) and `db-replica` (not critical) to /readyz. */
  registerHealth(health: Health): void;
  close(): Promise<void>;
}

export async function openDatabase<C extends PrismaClientLike>(
  Client: PrismaClientClass<C>,
  options: DatabaseOptions,
): Promise<Database<C>> {
  const migrateAtStart = options.migrate ?? ['development', 'test'].includes(process.env['NODE_ENV'] ?? '');
  if (options.migrationsDir && migrateAtStart) {
    await migrate({ databaseUrl: options.url, migrationsDir: options.migrationsDir, log: options.log });
  }
  const makePool = (url: string, role: DbTarget) =>
    new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      application_name: `${options.applicationName ?? 'souk'}-${role}`,
      idleTimeoutMillis: 30_000,
    });
  const primaryPool = makePool(options.url, 'primary');
  const replicaPools = (options.replicaUrls ?? []).map((url) => makePool(url, 'replica'));
  // A pool's 'error' is emitted for idle connections the server dropped; the next checkout reconnects.
  for (const pool of [primaryPool, ...replicaPools]) pool.on('error', () => {});

  const makeClient = (pool: pg.Pool, target: DbTarget) => {
    const base = new Client({ adapter: new PrismaPg(pool) });
    return base.$extends(tracingExtension(target, databaseName(pool))) as C;
  };
  const primary = makeClient(primaryPool, 'primary');
  const metrics = options.metrics ?? new Metrics({ service: 'souk', defaultMetrics: false });
  const fallbacks = metrics.counter(
    'souk_db_replica_fallbacks_total',
    'Reads meant for a replica that ran on the primary because the replica could not be reached',
  );
  const replicas = replicaPools.map((pool) =>
    makeClient(pool, 'replica').$extends(
      fallbackExtension(primary, options.replicaRetryMs ?? 5_000, () => fallbacks.inc()),
    ),
  ) as C[];
  const client = (
    replicas.length > 0
      ? primary.$extends(readReplicas({ replicas: replicas as never[] }))
      : primary.$extends({ client: { $primary: () => primary, $replica: () => primary } })
  ) as RoutedClient<C>;

  return {
    client,
    primary,
    replicas,
    pools: { primary: primaryPool, replicas: replicaPools },
    async check(timeoutMs = 1_000) {
      const [p, ...r] = await Promise.all(
        [primaryPool, ...replicaPools].map((pool) => ping(pool, timeoutMs)),
      );
      if (p) return { status: 'down', detail: `primary: ${p}` };
      const failed = r.filter((e) => e !== undefined);
      if (failed.length > 0) return { status: 'degraded', detail: `replica: ${failed[0]}` };
      return { status: 'ok' };
    },
    registerHealth(health) {
      health.register('db', async () => {
        const error = await ping(primaryPool, 1_000);
        if (error) throw new Error(error);
      });
      if (replicaPools.length > 0) {
        health.register(
          'db-replica',
          async () => {
            const errors = await Promise.all(replicaPools.map((pool) => ping(pool, 1_000)));
            const failed = errors.find((e) => e !== undefined);
            if (failed) throw new Error(failed);
          },
          { critical: false },
        );
      }
    },
    async close() {
      await Promise.allSettled([primary.$disconnect(), ...replicas.map((c) => c.$disconnect())]);
      await Promise.allSettled([primaryPool.end(), ...replicaPools.map((pool) => pool.end())]);
    },
  };
}

/** Prisma's codes for "the server could not be reached / dropped us / the pool ran dry". */
const UNREACHABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

function unreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}

type Operation = (args: unknown) => Promise<unknown>;

/**
 * Installed on each replica client: when the replica cannot be reached, the read runs on the primary
 * (slightly fresher data is never wrong) and the replica is skipped for `retryMs`, so a dead replica
 * costs one failed connection attempt per period rather than one per read.
 */
function fallbackExtension(primary: object, retryMs: number, onFallback: () => void) {
  let downUntil = 0;
  const onPrimary = (model: string | undefined, operation: string, args: unknown) => {
    onFallback();
    const target = (model ? (primary as Record<string, unknown>)[model] : primary) as Record<
      string,
      Operation
    >;
    return target[operation]!(args);
  };
  return {
    name: 'souk-replica-fallback',
    query: {
      async $allOperations(params: {
        model?: string;
        operation: string;
        args: unknown;
        query: Operation;
      }): Promise<unknown> {
        const { model, operation, args, query } = params;
        if (Date.now() < downUntil) return onPrimary(model, operation, args);
        try {
          return await query(args);
        } catch (error) {
          if (!unreachable(error)) throw error;
          downUntil = Date.now() + retryMs;
          return onPrimary(model, operation, args);
        }
      },
    },
  };
}

function databaseName(pool: pg.Pool): string | undefined {
  const url = (pool.options as { connectionString?: string }).connectionString;
  try {
    return url ? decodeURIComponent(new URL(url).pathname.slice(1)) || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves to an error message, or undefined when the server answered in time. */
async function ping(pool: pg.Pool, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((done) => {
    timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const query = pool.query('SELECT 1').then(
    () => undefined,
    (err: Error) => err.message,
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
