import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MigrateResult, migrate } from '../db/migrate.ts';

/**
 * The kit's own migrations (outbox and inbox tables), in the `prisma/migrations` layout, so the kit's
 * migration runner applies them next to a service's own folder; both share `_prisma_migrations`,
 * and each run leaves the other folder's entries alone.
 */
export const eventsMigrationsDir: string = fileURLToPath(new URL('./migrations', import.meta.url));

/** The SQL of the event tables, for a service that prefers to copy it into its own migration. */
export function eventsMigrationSql(): string {
  return readFileSync(
    fileURLToPath(new URL('./migrations/20261121000000_souk_events/migration.sql', import.meta.url)),
    'utf8',
  );
}

/** Applies the kit's event tables to a database (idempotent). */
export function migrateEvents(databaseUrl: string, log?: (message: string) => void): Promise<MigrateResult> {
  return migrate({ databaseUrl, migrationsDir: eventsMigrationsDir, ...(log ? { log } : {}) });
}
