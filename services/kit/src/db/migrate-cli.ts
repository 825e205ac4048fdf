/**
 * Applies a workspace's committed migrations to the primary, for deployment (a Job or an init container).
 *
 *   node --import tsx services/kit/src/db/migrate-cli.ts --schema services/orders/prisma [--url postgres://…]
 *
 * `--schema` is the folder holding `migrations/` (or the schema.prisma file next to it); the URL defaults to
 * `DATABASE_URL`.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { migrate } from './migrate.ts';

export async function migrationsDirFor(schema: string): Promise<string> {
  const path = resolve(schema);
  const info = await stat(path);
  const base = info.isDirectory() ? path : dirname(path);
  const nested = join(base, 'migrations');
  try {
    if ((await stat(nested)).isDirectory()) return nested;
  } catch {}
  return base;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { schema: { type: 'string' }, url: { type: 'string' } },
  });
  const url = values.url ?? process.env['DATABASE_URL'];
  if (!values.schema || !url) {
    process.stderr.write(
      'usage: migrate-cli --schema <prisma dir> [--url <postgres url>] (or DATABASE_URL)\n',
    );
    process.exit(2);
  }
  const result = await migrate({
    databaseUrl: url,
    migrationsDir: await migrationsDirFor(values.schema),
    log: (m) => process.stdout.write(`${m}\n`),
  });
  process.stdout.write(
    `${result.applied.length} applied, ${result.alreadyApplied.length} already applied` +
      (result.unknown.length
        ? `, ${result.unknown.length} in the database only: ${result.unknown.join(', ')}`
        : '') +
      '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
