import pg from 'pg';
import { call, type Platform, TEST_CARDS } from '../test/platform.ts';

export interface PlacedOrder {
  id: string;
  /** performance.now() when POST /orders was sent. */
  sentAt: number;
  /** performance.now() when POST /orders answered 201. */
  placedAt: number;
  /** Resolves with performance.now() once the order is CONFIRMED; rejects if it is CANCELLED (with the reason). */
  confirmed: Promise<number>;
}

export interface RunOrdersOptions {
  /** Orders in flight at once (closed loop: a new one is placed when one confirms). */
  concurrency?: number;
  /** Items to spread the orders over (each order buys one unit of one of them). */
  itemIds: string[];
  token: string;
  /** Called as each order is placed, e.g. to time its CONFIRMED notification elsewhere. */
  onPlaced?: (order: PlacedOrder) => void;
  /** How often the orders database is asked which orders ended. */
  pollMs?: number;
}

/**
 * Runs `count` orders through the whole saga on a running platform and resolves once all are
 * confirmed, with each order's timings. A hook for other benchmarks: the notifications benchmark
 * can pass `onPlaced` and time the CONFIRMED notification of each order on its own channel.
 * Endings are read from the orders primary in one query per poll for all orders in flight.
 */
export async function runOrders(
  platform: Platform,
  count: number,
  o: RunOrdersOptions,
): Promise<PlacedOrder[]> {
  const db = new pg.Pool({ connectionString: platform.main.databaseUrl, max: 2 });
  const waiting = new Map<string, { resolve: (at: number) => void; reject: (e: Error) => void }>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      if (waiting.size > 0) {
        const { rows } = await db.query<{ id: string; status: string; cancel_reason: string | null }>(
          `SELECT id::text, status::text, cancel_reason FROM orders
           WHERE id = ANY($1::uuid[]) AND status IN ('CONFIRMED', 'CANCELLED')`,
          [[...waiting.keys()]],
        );
        const at = performance.now();
        for (const row of rows) {
          const w = waiting.get(row.id);
          waiting.delete(row.id);
          if (row.status === 'CONFIRMED') w?.resolve(at);
          else w?.reject(new Error(`order ${row.id} was cancelled (${row.cancel_reason})`));
        }
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 10));
    }
  })();
  const results: PlacedOrder[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(o.concurrency ?? 32, count) }, async () => {
        while (next < count) {
          const n = next++;
          const itemId = o.itemIds[n % o.itemIds.length]!;
          const sentAt = performance.now();
          const res = await call(platform.ordersUrl, 'POST', '/orders', {
            token: o.token,
            headers: { 'Idempotency-Key': crypto.randomUUID() },
            body: { lines: [{ itemId, quantity: 1 }], payment: { cardNumber: TEST_CARDS.approve } },
          });
          if (res.status !== 201)
            throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
          const id = res.body['id'] as string;
          const confirmed = new Promise<number>((resolve, reject) => waiting.set(id, { resolve, reject }));
          confirmed.catch(() => {});
          const order: PlacedOrder = { id, sentAt, placedAt: performance.now(), confirmed };
          results.push(order);
          o.onPlaced?.(order);
          await confirmed.catch(() => {});
        }
      }),
    );
  } finally {
    polling = false;
    await poller;
    await db.end();
  }
  return results;
}
