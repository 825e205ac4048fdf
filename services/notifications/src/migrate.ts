/**
 * The deploy-time migration command (a Job or an init container): applies the kit's event tables
 * and this service's migrations to DATABASE_URL, then exits.
 *
 *   node --import tsx services/notifications/src/migrate.ts
 */
import { migrateNotifications } from './data/database.ts';

const url = process.env['DATABASE_URL'];
if (!url) {
  process.stderr.write('DATABASE_URL is required\n');
  process.exit(78);
}
try {
  await migrateNotifications(url, (message) => process.stdout.write(`${message}\n`));
  process.stdout.write('migrations applied\n');
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
