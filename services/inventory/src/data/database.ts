import { fileURLToPath } from 'node:url';
import type { Database } from '@souk/kit/db/database';
import { serviceDatabase } from '@souk/kit/db/service-database';
import { type Prisma, PrismaClient } from '../../generated/client/client.ts';

export type InventoryDb = Database<PrismaClient>;
export type Tx = Prisma.TransactionClient;
export type { Prisma, PrismaClient };

/** The kit's event tables (outbox, inbox) and inventory's own migrations, opened as `inventory-primary`/`-replica`. */
export const inventoryDatabase = serviceDatabase(PrismaClient, {
  name: 'inventory',
  migrationsDir: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)),
});
