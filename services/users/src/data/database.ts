import { fileURLToPath } from 'node:url';
import { type Database, openDatabase } from '@souk/kit/db/database';
import { migrate } from '@souk/kit/db/migrate';
import { eventsMigrationsDir } from '@souk/kit/events/migrations';
import { type Prisma, PrismaClient } from '../../generated/client/client.ts';

export type UsersDb = Database<PrismaClient>;
export type Tx = Prisma.TransactionClient;

export const migrationsDir: string = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** Applies the kit's event tables (outbox, inbox), then this service's own migrations. */
export async function migrateUsers(databaseUrl: string, log?: (message: string) => void): Promise<void> {
  const options = log ? { log } : {};
  await migrate({ databaseUrl, migrationsDir: eventsMigrationsDir, ...options });
  await migrate({ databaseUrl, migrationsDir, ...options });
}

export function openUsersDb(options: {
  url: string;
  replicaUrl?: string | undefined;
  poolSize?: number;
  log?: (message: string) => void;
}): Promise<UsersDb> {
  return openDatabase(PrismaClient, {
    url: options.url,
    ...(options.replicaUrl ? { replicaUrls: [options.replicaUrl] } : {}),
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
    applicationName: 'users',
    ...(options.log ? { log: options.log } : {}),
  });
}

/** True for a unique-constraint violation (Prisma P2002, or Postgres 23505 through raw SQL). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown }; meta?: { code?: unknown } };
  return (
    e?.code === 'P2002' || e?.code === '23505' || e?.meta?.code === '23505' || e?.cause?.code === '23505'
  );
}
