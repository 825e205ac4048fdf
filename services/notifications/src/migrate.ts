/**
 * The deploy-time migrate command (a Job or an init container): the kit's event tables, then the
 * notifications migrations, applied to DATABASE_URL.
 *
 *   node --import tsx services/notifications/src/migrate.ts
 */
import { notificationsDatabase } from './data/database.ts';

await notificationsDatabase.migrateCommand();
