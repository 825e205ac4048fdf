import { createOrders } from './app.ts';
import { loadOrdersConfig } from './config.ts';

const config = loadOrdersConfig();
// Deployments migrate with `npm run migrate` before rolling out; development and tests migrate at start.
const orders = await createOrders({ config });
// Before start: /livez answers while the consumers still join their group, and a SIGTERM may come then.
orders.service.exitOnSignals();
await orders.start();
