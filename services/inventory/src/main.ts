import { createInventory } from './app.ts';
import { loadInventoryConfig } from './config.ts';

const config = loadInventoryConfig();
// Deployments migrate with `npm run migrate` before rolling out; development and tests migrate here.
const inventory = await createInventory({
  config,
  migrate: config.MIGRATE_ON_START ?? config.NODE_ENV !== 'production',
});
// Before start: /livez answers while the consumers still join their group, and a SIGTERM may come then.
inventory.service.exitOnSignals();
await inventory.start();
