/**
 * The deploy-time migrate command (a Job or an init container): the kit's event tables, then the
 * payments migrations, applied to DATABASE_URL.
 *
 *   node --import tsx services/payments/src/migrate.ts
 */
import { paymentsDatabase } from './data/database.ts';

await paymentsDatabase.migrateCommand();
