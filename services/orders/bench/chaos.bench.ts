import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineBench } from '@souk/harness/bench';
import { chaosSeed } from '../test/chaos/random.ts';
import { runChaos } from '../test/chaos/scenario.ts';

/**
 * The fault suite of test/chaos.test.ts, longer: 1000 orders, six kills -9 (each of orders,
 * inventory and payments twice), two Kafka broker outages, a Redis master and a Postgres
 * failover. The whole run (seed, faults with their times, outcomes) also goes to
 * bench/out/chaos-run.json.
 */
export default defineBench('chaos', async (ctx) => {
  const result = await runChaos({
    seed: chaosSeed(),
    orders: 1_000,
    buyers: 12,
    ratePerSecond: 8,
    kills: 6,
    brokerOutages: 2,
    brokerOutageMs: 5_000,
    postgresFailover: true,
    redisFailover: true,
    terminalDeadlineMs: 180_000,
    log: (message) => ctx.log(message),
  });
  const out = path.resolve(import.meta.dirname, '../../../bench/out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'chaos-run.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const p of result.problems.slice(0, 20)) ctx.log(`broken: ${p}`);
  ctx.record({ name: `orders placed (seed ${result.seed})`, value: result.orders, unit: 'orders' });
  ctx.record({ name: 'services killed -9 and restarted', value: result.kills, unit: 'kills' });
  ctx.record({ name: 'faults injected', value: result.faults.length, unit: 'faults' });
  ctx.record({
    name: 'POSTs sent again (service down or failing over)',
    value: result.retriedPosts,
    unit: 'orders',
  });
  ctx.record({
    name: 'last order placed to every order CONFIRMED or CANCELLED',
    value: result.allTerminalMs,
    unit: 'ms',
    target: 'value <= 180000',
  });
  ctx.record({ name: 'orders CONFIRMED', value: result.statuses['CONFIRMED'] ?? 0, unit: 'orders' });
  ctx.record({ name: 'orders CANCELLED', value: result.statuses['CANCELLED'] ?? 0, unit: 'orders' });
  ctx.record({
    name: 'broken invariants (terminal, stock, single capture, one notification per outcome)',
    value: result.problems.length,
    unit: 'problems',
    target: 'value <= 0',
  });
});
