import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

/**
 * Applies the committed `prisma/migrations/<name>/migration.sql` files without Prisma's schema engine,
 * keeping the same `_prisma_migrations` bookkeeping as `prisma migrate deploy`, so either tool can take
 * over from the other.
 *
 * - One transaction per migration: a failed migration leaves nothing behind (recorded as rolled back).
 * - A session advisory lock (Prisma's own key) serialises concurrent migrators, e.g. two replicas starting.
 * - An applied migration whose file changed is refused before anything runs.
 */

/** The advisory lock key `prisma migrate` itself takes, so we also exclude a concurrent Prisma CLI. */
const LOCK_KEY = 72707369;

export interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  /** Connection string of the primary. */
  databaseUrl: string;
  /** The `prisma/migrations` folder. */
  migrationsDir: string;
  /** How long to wait for another migrator's lock before giving up. */
  lockTimeoutMs?: number;
  log?: (message: string) => void;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
  /** Recorded in the database but absent locally (a newer version ran here before): left alone. */
  unknown: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(
    message: string,
    readonly migration?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function checksum(sql: string | Buffer): string {
  return createHash('sha256').update(sql).digest('hex');
}

export async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: LocalMigration[] = [];
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(migrationsDir, name, 'migration.sql'));
    } catch {
      continue;
    }
    migrations.push({ name, sql: bytes.toString('utf8'), checksum: checksum(bytes) });
  }
  return migrations;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const local = await readMigrations(options.migrationsDir);
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'souk-migrate' });
  await client.connect();
  try {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs ?? 120_000))}`);
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await client.query(CREATE_TABLE);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      const done = new Map<string, AppliedRow>();
      for (const row of rows) {
        if (row.rolled_back_at !== null) continue;
        if (row.finished_at === null) {
          throw new MigrationError(
            `migration ${row.migration_name} started but did not finish; resolve it before migrating`,
            row.migration_name,
          );
        }
        done.set(row.migration_name, row);
      }
      for (const m of local) {
        const row = done.get(m.name);
        if (row && row.checksum !== m.checksum) {
          throw new MigrationError(
            `migration ${m.name} was modified after it was applied (checksum ${row.checksum} in the database, ${m.checksum} on disk)`,
            m.name,
          );
        }
      }
      const localNames = new Set(local.map((m) => m.name));
      const result: MigrateResult = {
        applied: [],
        alreadyApplied: local.filter((m) => done.has(m.name)).map((m) => m.name),
        unknown: [...done.keys()].filter((n) => !localNames.has(n)),
      };
      for (const m of local) {
        if (done.has(m.name)) continue;
        await applyOne(client, m);
        result.applied.push(m.name);
        log(`applied migration ${m.name}`);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function applyOne(client: pg.Client, m: LocalMigration): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [id, m.checksum, m.name],
    );
    // Simple query protocol: the file may hold many statements.
    await client.query(m.sql);
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    const message = err instanceof Error ? err.message : String(err);
    await client
      .query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count)
         VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp(), 0)`,
        [id, m.checksum, m.name, message],
      )
      .catch(() => {});
    throw new MigrationError(`migration ${m.name} failed and was rolled back: ${message}`, m.name, {
      cause: err,
    });
  }
}
