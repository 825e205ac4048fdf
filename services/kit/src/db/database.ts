import { PrismaPg } from '@prisma/adapter-pg';
import { readReplicas } from '@prisma/extension-read-replicas';
import pg from 'pg';
import type { Health } from '../health.ts';
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
  /** Apply `migrationsDir` before returning (dev and test; deployments run the migrate command). */
  migrationsDir?: string;
  migrate?: boolean;
  /** Connections per pool (one pool per server). */
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Server-side statement timeout, so a stuck query cannot hold a request forever. */
  statementTimeoutMs?: number;
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
  if (options.migrationsDir && options.migrate !== false) {
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
  const replicas = replicaPools.map((pool) => makeClient(pool, 'replica'));
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
