/**
 * The deploy-time migrate command (a Job or an init container): the kit's event tables, then the
 * inventory migrations, applied to DATABASE_URL.
 *
 *   node --import tsx services/inventory/src/migrate.ts
 */
import { inventoryDatabase } from './data/database.ts';

await inventoryDatabase.migrateCommand();
