import { fileURLToPath } from 'node:url';
import type { Database } from '@souk/kit/db/database';
import { serviceDatabase } from '@souk/kit/db/service-database';
import { type Prisma, PrismaClient } from '../../generated/client/client.ts';

export type NotificationsDb = Database<PrismaClient>;
export type Tx = Prisma.TransactionClient;

/** The kit's event tables (outbox, inbox) and notifications' own migrations, opened as `notifications-primary`/`-replica`. */
export const notificationsDatabase = serviceDatabase(PrismaClient, {
  name: 'notifications',
  migrationsDir: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)),
});
