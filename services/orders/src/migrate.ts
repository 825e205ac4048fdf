/**
 * The deploy-time migrate command (a Job or an init container): the kit's event tables, then the
 * orders migrations, applied to DATABASE_URL.
 *
 *   node --import tsx services/orders/src/migrate.ts
 */
import { ordersDatabase } from './data/database.ts';

await ordersDatabase.migrateCommand();
