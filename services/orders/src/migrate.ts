/** The deploy-time migrate command: the kit's event tables, then the orders migrations. */
import { migrateOrders } from './data/database.ts';

const url = process.env['DATABASE_URL'];
if (!url) {
  process.stderr.write('config: DATABASE_URL is required but not set\n');
  process.exit(78);
}
migrateOrders(url, (message) => process.stdout.write(`${message}\n`)).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
