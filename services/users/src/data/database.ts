import { fileURLToPath } from 'node:url';
import type { Database } from '@souk/kit/db/database';
import { serviceDatabase } from '@souk/kit/db/service-database';
import { type Prisma, PrismaClient } from '../../generated/client/client.ts';

export type UsersDb = Database<PrismaClient>;
export type Tx = Prisma.TransactionClient;

/** The kit's event tables (outbox, inbox) and users' own migrations, opened as `users-primary`/`-replica`. */
export const usersDatabase = serviceDatabase(PrismaClient, {
  name: 'users',
  migrationsDir: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)),
});

/** True for a unique-constraint violation (Prisma P2002, or Postgres 23505 through raw SQL). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown }; meta?: { code?: unknown } };
  return (
    e?.code === 'P2002' || e?.code === '23505' || e?.meta?.code === '23505' || e?.cause?.code === '23505'
  );
}
