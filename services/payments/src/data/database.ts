import { fileURLToPath } from 'node:url';
import type { Database } from '@souk/kit/db/database';
import { serviceDatabase } from '@souk/kit/db/service-database';
import { type Prisma, PrismaClient } from '../../generated/client/client.ts';

export type PaymentsDb = Database<PrismaClient>;
export type Tx = Prisma.TransactionClient;
export type { Prisma, PrismaClient };

/** The kit's event tables (outbox, inbox) and payments' own migrations, opened as `payments-primary`/`-replica`. */
export const paymentsDatabase = serviceDatabase(PrismaClient, {
  name: 'payments',
  migrationsDir: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)),
});
