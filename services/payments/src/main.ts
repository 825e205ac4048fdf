import { createPayments } from './app.ts';
import { loadPaymentsConfig } from './config.ts';

const config = loadPaymentsConfig();
// Deployments migrate with `npm run migrate` before rolling out; elsewhere the service migrates at start.
const payments = await createPayments({ config });
// Before start: /livez answers while the consumers still join their group, and a SIGTERM may come then.
payments.service.exitOnSignals();
await payments.start();
