/**
 * The payments service in its own process, for crash tests: configured from the environment like
 * main.ts, it prints `ready` once its command consumer has joined its group.
 */
import { createPayments } from '../src/app.ts';
import { loadPaymentsConfig } from '../src/config.ts';

const payments = await createPayments({ config: loadPaymentsConfig() });
await payments.start();
await payments.joined();
process.stdout.write('ready\n');
payments.service.exitOnSignals();
