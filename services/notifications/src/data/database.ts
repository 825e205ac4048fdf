import { fileURLToPath } from 'node:url';
import type { Metrics } from '@souk/kit';
import { type Database, openDatabase } from '@souk/kit/db/database';
import { migrate } from '@souk/kit/db/migrate';
import { eventsMigrationsDir } from '@souk/kit/events/migrations';
import { type Prisma, PrismaClient } from '../../generated/client/client.ts';

export type NotificationsDb = Database<PrismaClient>;
export type Tx = Prisma.TransactionClient;

export const migrationsDir: string = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** Applies the kit's event tables (outbox, inbox), then this service's own migrations. */
export async function migrateNotifications(
  databaseUrl: string,
  log?: (message: string) => void,
): Promise<void> {
  const options = log ? { log } : {};
  await migrate({ databaseUrl, migrationsDir: eventsMigrationsDir, ...options });
  await migrate({ databaseUrl, migrationsDir, ...options });
}

export function openNotificationsDb(options: {
  url: string;
  replicaUrl?: string | undefined;
  metrics?: Metrics;
  poolSize?: number;
}): Promise<NotificationsDb> {
  return openDatabase(PrismaClient, {
    url: options.url,
    ...(options.replicaUrl ? { replicaUrls: [options.replicaUrl] } : {}),
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
    applicationName: 'notifications',
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}
