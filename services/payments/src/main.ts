import { createPayments } from './app.ts';
import { loadPaymentsConfig } from './config.ts';

const config = loadPaymentsConfig();
// Deployments migrate with `npm run migrate` before rolling out; elsewhere the service migrates at start.
const payments = await createPayments({ config });
await payments.start();
payments.service.exitOnSignals();
