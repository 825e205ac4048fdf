import { availableParallelism } from 'node:os';
import { defineBench, percentile } from '@souk/harness/bench';
import { pgCommitCeiling } from '@souk/harness/bench/baselines';
import { cpuSecondsOfTrees, machineCpuSeconds } from '@souk/harness/bench/cpu';
import { pgUrl } from '@souk/harness/infra/postgres-node';
import { OutcomeListener } from '../../notifications/test/outcome-listener.ts';
import { TEST_CARDS } from '../../payments/src/domain/test-cards.ts';
import { ProcessPlatform, SERVICES } from '../test/chaos/process-platform.ts';
import { call } from '../test/platform.ts';

/**
 * Orders completing the whole saga per second, each service in its own process on a private
 * Postgres (primary + streaming replica, data on disk, fsync on), Redis Cluster and Kafka mock.
 * An order is done when its CONFIRMED notification reaches its buyer's WebSocket, so the figure
 * covers placement, the four saga hops, the outcome event and the notification fan-out.
 *
 * Commits per order are counted, not estimated: the transaction ids the whole Postgres cluster
 * handed out during the run (every writing transaction of every service, relay marks and inbox
 * records included; read-only ones write nothing and cost no fsync) divided by the orders. The
 * baseline is the Postgres commit ceiling measured on the same server in the same run, divided by
 * that count. Buyers log in once, before the run: an argon2 login per order would measure users.
 *
 * Where the CPU goes is measured too (the services' processes, and Postgres' with its backends),
 * and from Postgres' share alone the most orders/s this machine could reach if nothing else cost
 * anything: the highest ratio any code could get here.
 */
const BUYERS = 8;
const ITEMS = 32;
const COUNT = 400;
const IN_FLIGHT = 64;

export default defineBench('orders', async (ctx) => {
  const platform = new ProcessPlatform({ pgOnDisk: true });
  const listener = new OutcomeListener();
  try {
    await platform.start();
    const people = [];
    for (let i = 0; i <= BUYERS; i++) people.push(await platform.register(`bench${i}@orders.bench`));
    const [seller, ...buyers] = people;
    const itemIds: string[] = [];
    for (let i = 0; i < ITEMS; i++) {
      itemIds.push(
        await platform.createItem(seller!.token, {
          title: `item ${i}`,
          priceCents: 100 + i,
          quantity: 1_000_000,
        }),
      );
    }
    await listener.listen(
      platform.url('notifications'),
      buyers.map((b) => b.token),
    );

    const place = async (n: number) => {
      const buyer = buyers[n % buyers.length]!;
      const sentAt = performance.now();
      const res = await call(platform.url('orders'), 'POST', '/orders', {
        token: buyer.token,
        headers: { 'Idempotency-Key': crypto.randomUUID() },
        body: {
          lines: [{ itemId: itemIds[n % itemIds.length], quantity: 1 }],
          payment: { cardNumber: TEST_CARDS.approve },
        },
      });
      if (res.status !== 201)
        throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
      const id = res.body['id'] as string;
      const placedAt = performance.now();
      const notifiedAt = await withTimeout(listener.outcome(id), 120_000, `order ${id} outcome`);
      const kind = listener.arrivals.get(id)!.kind;
      if (kind !== 'order_confirmed') throw new Error(`order ${id}: ${kind}`);
      return { id, sentAt, placedAt, notifiedAt };
    };
    const closedLoop = async (count: number, inFlight: number) => {
      const done: Awaited<ReturnType<typeof place>>[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(inFlight, count) }, async () => {
          while (next < count) done.push(await place(next++));
        }),
      );
      return done;
    };

    // Warm-up: connections, JIT, the consumers' first fetches.
    await closedLoop(60, 16);
    const serverUrl = pgUrl(platform.pgPair.primary.port);
    const ceiling = await pgCommitCeiling(serverUrl);
    ctx.log(`postgres commit ceiling: ${Math.round(ceiling)} commits/s`);

    // Where the CPU goes: the services' processes, and Postgres' (both servers, backends included).
    const cpuGroups = () =>
      cpuSecondsOfTrees({
        services: SERVICES.map((name) => platform.service(name).pid!),
        postgres: [platform.pgPair.primary, platform.pgPair.replica].map((node) => node.postmaster!.pid),
      });
    const xidBefore = await nextXid(platform);
    const cpuBefore = cpuGroups();
    const machineBefore = machineCpuSeconds();
    const started = performance.now();
    const orders = await closedLoop(COUNT, IN_FLIGHT);
    const cpuAfter = cpuGroups();
    const machineAfter = machineCpuSeconds();
    const seconds = (Math.max(...orders.map((o) => o.notifiedAt)) - started) / 1000;
    // The last effects of an order (inventory committing its stock) may land just after its notification.
    await new Promise((r) => setTimeout(r, 1_000));
    const commitsPerOrder = ((await nextXid(platform)) - xidBefore) / COUNT;
    const perSecond = COUNT / seconds;
    const baseline = Number((ceiling / commitsPerOrder).toFixed(1));
    const latencies = orders.map((o) => o.notifiedAt - o.sentAt);
    ctx.log(`${COUNT} orders in ${seconds.toFixed(1)} s; ${commitsPerOrder.toFixed(2)} commits per order`);
    ctx.log(
      `POST /orders answered p50 ${percentile(
        orders.map((o) => o.placedAt - o.sentAt),
        50,
      ).toFixed(0)} ms`,
    );
    const completed = await platform.sql<{ id: string; at: number }>(
      'orders',
      'SELECT id::text, extract(epoch FROM completed_at) * 1000 AS at FROM orders WHERE id = ANY($1::uuid[])',
      [orders.map((o) => o.id)],
    );
    const notifiedAt = new Map(orders.map((o) => [o.id, performance.timeOrigin + o.notifiedAt]));
    const toSocket = completed.map((c) => notifiedAt.get(c.id)! - Number(c.at));
    ctx.log(
      `CONFIRMED committed to notification on the WebSocket p50 ${percentile(toSocket, 50).toFixed(0)} ms`,
    );
    for (const [hop, ms] of await hopLatencies(
      platform,
      orders.map((o) => o.id),
    )) {
      ctx.log(`saga hop ${hop}: p50 ${ms.p50.toFixed(0)} ms, p99 ${ms.p99.toFixed(0)} ms`);
    }

    ctx.record({
      name: `orders confirmed end to end per second (${IN_FLIGHT} in flight, services in processes), vs Postgres commit ceiling / commits per order`,
      value: Number(perSecond.toFixed(1)),
      unit: 'orders/s',
      baseline,
      baselineName: `pgCommitCeiling (${Math.round(ceiling)} commits/s, same run) / ${commitsPerOrder.toFixed(2)} commits per order (counted)`,
      target: 'ratio >= 0.3',
    });
    const busy = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
    const msPerOrder = (group: 'services' | 'postgres') =>
      ((cpuAfter[group] - cpuBefore[group]) / COUNT) * 1000;
    const cores = availableParallelism();
    ctx.log(
      `CPU per order: services ${msPerOrder('services').toFixed(1)} ms, Postgres ${msPerOrder('postgres').toFixed(1)} ms; ` +
        `machine ${(busy * 100).toFixed(0)}% busy on ${cores} cores`,
    );
    ctx.record({ name: 'CPU per order: the five services', value: msPerOrder('services'), unit: 'ms' });
    ctx.record({
      name: 'CPU per order: Postgres (primary and replica)',
      value: msPerOrder('postgres'),
      unit: 'ms',
    });
    ctx.record({ name: 'machine CPU busy during the run', value: busy * 100, unit: '%' });
    // How far any code could go here: with nothing else costing CPU, Postgres alone would use all cores at this rate.
    ctx.record({
      name: `orders/s if Postgres had all ${cores} cores and nothing else cost CPU (cores ÷ Postgres CPU per order), vs the same baseline`,
      value: Number(((cores * 1000) / msPerOrder('postgres')).toFixed(1)),
      unit: 'orders/s',
      baseline,
      baselineName: 'pgCommitCeiling / commits per order, as above',
    });
    ctx.record({
      name: 'commits per order (all services, counted)',
      value: commitsPerOrder,
      unit: 'commits',
    });
    ctx.record({ name: 'Postgres commit ceiling (same run)', value: Math.round(ceiling), unit: 'commits/s' });
    ctx.record({
      name: `POST /orders to CONFIRMED on the WebSocket p50 (${IN_FLIGHT} in flight)`,
      value: Number(percentile(latencies, 50).toFixed(1)),
      unit: 'ms',
    });
    ctx.record({
      name: `POST /orders to CONFIRMED on the WebSocket p99 (${IN_FLIGHT} in flight)`,
      value: Number(percentile(latencies, 99).toFixed(1)),
      unit: 'ms',
    });
  } finally {
    listener.close();
    await platform.stop();
  }
});

/** The next transaction id the cluster will hand out (asking does not take one). */
async function nextXid(platform: ProcessPlatform): Promise<number> {
  const [row] = await platform.sql<{ xid: string }>(
    'orders',
    'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid',
  );
  return Number(row!.xid);
}

/** How long each step of the saga took (from the previous history entry), p50 and p99 over the orders. */
async function hopLatencies(platform: ProcessPlatform, ids: string[]) {
  const rows = await platform.sql<{ label: string; ms: number }>(
    'orders',
    `SELECT step || ':' || outcome AS label,
            extract(epoch FROM at - lag(at) OVER (PARTITION BY order_id ORDER BY seq)) * 1000 AS ms
     FROM saga_history WHERE order_id = ANY($1::uuid[])`,
    [ids],
  );
  const byHop = new Map<string, number[]>();
  for (const r of rows) {
    if (r.ms === null) continue;
    byHop.set(r.label, [...(byHop.get(r.label) ?? []), Number(r.ms)]);
  }
  return [...byHop].map(([hop, ms]) => [hop, { p50: percentile(ms, 50), p99: percentile(ms, 99) }] as const);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
