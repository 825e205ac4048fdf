/**
 * The deploy-time migrate command (a Job or an init container): the kit's event tables, then the
 * users migrations, applied to DATABASE_URL.
 *
 *   node --import tsx services/users/src/migrate.ts
 */
import { usersDatabase } from './data/database.ts';

await usersDatabase.migrateCommand();
