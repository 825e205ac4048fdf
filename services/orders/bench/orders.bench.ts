import { defineBench, percentile } from '@souk/harness/bench';
import { pgCommitCeiling } from '@souk/harness/bench/baselines';
import { Platform } from '../test/platform.ts';
import { runOrders } from './load.ts';

/**
 * Orders completing the whole saga per second, with users, inventory, payments and orders
 * in this process on the shared infrastructure. An order costs these committed transactions:
 * orders 4 (placement; StockReserved; PaymentAuthorized; PaymentCaptured), inventory 2 (reserve;
 * commit on OrderConfirmed), inventory's cache consumer 1 (inbox of StockReserved), payments 2
 * (authorize; capture). Relay "sent" marks are batched and not counted; consumers may fold
 * several events into one transaction under load. The baseline is the Postgres commit ceiling
 * measured in the same run, divided by those 9 commits.
 */
const COMMITS_PER_ORDER = 9;

export default defineBench('orders', async (ctx) => {
  const platform = new Platform('bench-orders', { orders: { LOG_LEVEL: 'silent' } });
  await platform.start();
  try {
    const seller = await platform.register('seller@bench.test');
    const buyer = await platform.register('buyer@bench.test');
    const itemIds: string[] = [];
    for (let i = 0; i < 32; i++) {
      itemIds.push(
        await platform.createItem(seller, { title: `item ${i}`, priceCents: 100 + i, quantity: 1_000_000 }),
      );
    }
    await runOrders(platform, 50, { itemIds, token: buyer, concurrency: 16 });

    const ceiling = await pgCommitCeiling(platform.main.databaseUrl);
    ctx.log(`postgres commit ceiling: ${Math.round(ceiling)} commits/s`);

    const count = 400;
    const started = performance.now();
    const orders = await runOrders(platform, count, { itemIds, token: buyer, concurrency: 64, pollMs: 25 });
    // Every order must confirm (the items have ample stock, the card approves): a cancel fails the run.
    const confirmedAt = await Promise.all(orders.map((o) => o.confirmed));
    const seconds = (Math.max(...confirmedAt) - started) / 1000;
    const sagaMs = orders.map((o, i) => confirmedAt[i]! - o.sentAt);
    ctx.record({
      name: `orders confirmed end to end per second (64 in flight), vs Postgres commit ceiling / ${COMMITS_PER_ORDER} commits per order`,
      value: Number((count / seconds).toFixed(1)),
      unit: 'orders/s',
      baseline: Number((ceiling / COMMITS_PER_ORDER).toFixed(1)),
      baselineName: `pgCommitCeiling (${Math.round(ceiling)} commits/s, same run) / ${COMMITS_PER_ORDER}`,
      target: 'ratio >= 0.3',
    });
    ctx.record({
      name: 'POST to CONFIRMED p50 (64 in flight)',
      value: Number(percentile(sagaMs, 50).toFixed(1)),
      unit: 'ms',
    });
    ctx.record({
      name: 'POST to CONFIRMED p99 (64 in flight)',
      value: Number(percentile(sagaMs, 99).toFixed(1)),
      unit: 'ms',
    });
  } finally {
    await platform.stop();
  }
});
