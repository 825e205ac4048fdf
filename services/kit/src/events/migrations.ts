import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MigrateResult, migrate } from '../db/migrate.ts';

/**
 * The kit's own migrations (outbox and inbox tables), in the `prisma/migrations` layout, so the kit's
 * migration runner applies them next to a service's own folder; both share `_prisma_migrations`,
 * and each run leaves the other folder's entries alone.
 */
export const eventsMigrationsDir: string = fileURLToPath(new URL('./migrations', import.meta.url));

/** The SQL of the event tables, every kit migration in order, for a service that prefers to copy it into its own. */
export function eventsMigrationSql(): string {
  return readdirSync(eventsMigrationsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => readFileSync(join(eventsMigrationsDir, name, 'migration.sql'), 'utf8'))
    .join('\n');
}

/** Applies the kit's event tables to a database (idempotent). */
export function migrateEvents(databaseUrl: string, log?: (message: string) => void): Promise<MigrateResult> {
  return migrate({ databaseUrl, migrationsDir: eventsMigrationsDir, ...(log ? { log } : {}) });
}
