import { createInventory } from './app.ts';
import { loadInventoryConfig } from './config.ts';

const config = loadInventoryConfig();
const inventory = await createInventory({ config });
// Before start: /livez answers while the consumers still join their group, and a SIGTERM may come then.
inventory.service.exitOnSignals();
await inventory.start();
