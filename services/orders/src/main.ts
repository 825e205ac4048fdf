import { createOrders } from './app.ts';
import { loadOrdersConfig } from './config.ts';

const config = loadOrdersConfig();
// Deployments migrate with `npm run migrate` before rolling out; development and tests migrate at start.
const orders = await createOrders({ config });
await orders.start();
orders.service.exitOnSignals();
