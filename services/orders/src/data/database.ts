import { fileURLToPath } from 'node:url';
import type { Database } from '@souk/kit/db/database';
import { serviceDatabase } from '@souk/kit/db/service-database';
import { type Prisma, PrismaClient } from '../../generated/client/client.ts';

export type OrdersDb = Database<PrismaClient>;
export type Tx = Prisma.TransactionClient;
export type { Prisma, PrismaClient };

/** The kit's event tables (outbox, inbox) and orders' own migrations, opened as `orders-primary`/`-replica`. */
export const ordersDatabase = serviceDatabase(PrismaClient, {
  name: 'orders',
  migrationsDir: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)),
});
