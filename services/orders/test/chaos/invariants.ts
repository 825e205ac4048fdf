import type { ProcessPlatform } from './process-platform.ts';
import type { PlacedOrder, StockedItem } from './workload.ts';

export interface Settled {
  /** Orders by status, once all are terminal. */
  statuses: Record<string, number>;
  /** ms from the last order placed until every order was CONFIRMED or CANCELLED. */
  allTerminalMs: number;
  cancelReasons: Record<string, number>;
  /** From placement to the reservation's answer (or its deadline), a gauge of how loaded the run was. */
  reserveStockMs: { p50: number; p90: number };
}

const poll = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every order is CONFIRMED or CANCELLED; throws with the stragglers after `timeoutMs`. */
export async function waitAllTerminal(
  platform: ProcessPlatform,
  lastPlacedAt: number,
  timeoutMs: number,
): Promise<Settled> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await platform.sql<{ status: string; n: number }>(
      'orders',
      'SELECT status::text, count(*)::int AS n FROM orders GROUP BY status',
    );
    const statuses = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    const open = rows.filter((r) => r.status !== 'CONFIRMED' && r.status !== 'CANCELLED');
    if (open.length === 0) {
      const allTerminalMs = Date.now() - lastPlacedAt;
      const reasons = await platform.sql<{ reason: string; n: number }>(
        'orders',
        `SELECT coalesce(cancel_reason, '') AS reason, count(*)::int AS n FROM orders
         WHERE status = 'CANCELLED' GROUP BY 1 ORDER BY 2 DESC`,
      );
      const [hops] = await platform.sql<{ p50: number; p90: number }>(
        'orders',
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::int AS p50,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::int AS p90
         FROM (SELECT extract(epoch FROM h.at - o.created_at) * 1000 AS ms FROM saga_history h
               JOIN orders o ON o.id = h.order_id WHERE h.step = 'reserve_stock') t`,
      );
      return {
        statuses,
        allTerminalMs,
        cancelReasons: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
        reserveStockMs: { p50: hops?.p50 ?? 0, p90: hops?.p90 ?? 0 },
      };
    }
    if (Date.now() > deadline) {
      const stuck = await platform.sql<{ id: string; state: string; status: string }>(
        'orders',
        `SELECT o.id::text, o.status::text, s.state FROM orders o JOIN sagas s ON s.order_id = o.id
         WHERE o.status NOT IN ('CONFIRMED', 'CANCELLED') LIMIT 10`,
      );
      throw new Error(
        `orders not terminal after ${timeoutMs} ms: ${JSON.stringify(statuses)} e.g. ${JSON.stringify(stuck)}`,
      );
    }
    await poll(250);
  }
}

/**
 * Waits for the saga's last effects downstream (inventory committing or releasing stock, the
 * outcome notification), which follow the terminal state by an event each.
 */
export async function waitDownstream(
  platform: ProcessPlatform,
  orders: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [held] = await platform.sql<{ n: number }>(
      'inventory',
      "SELECT count(*)::int AS n FROM reservations WHERE status = 'held'",
    );
    const [notified] = await platform.sql<{ n: number }>(
      'notifications',
      "SELECT count(DISTINCT data->>'orderId')::int AS n FROM notifications WHERE kind IN ('order_confirmed', 'order_cancelled')",
    );
    if (held!.n === 0 && notified!.n >= orders) return;
    if (Date.now() > deadline) return; // the checks below name what is missing
    await poll(250);
  }
}

/** Every broken invariant, in words; empty when the platform came through. */
export async function checkInvariants(
  platform: ProcessPlatform,
  placed: PlacedOrder[],
  items: StockedItem[],
): Promise<string[]> {
  const problems: string[] = [];
  const orders = await platform.sql<{ id: string; user_id: string; status: string; total_cents: string }>(
    'orders',
    'SELECT id::text, user_id::text, status::text, total_cents::text FROM orders',
  );
  const byId = new Map(orders.map((o) => [o.id, o]));

  // 1. One order per Idempotency-Key, each terminal.
  const placedIds = new Set(placed.map((p) => p.id));
  if (placedIds.size !== placed.length)
    problems.push(`${placed.length} keys gave ${placedIds.size} distinct orders`);
  if (orders.length !== placedIds.size)
    problems.push(`orders database holds ${orders.length} orders, ${placedIds.size} placed`);
  for (const id of placedIds) if (!byId.has(id)) problems.push(`order ${id} was answered 201 but is missing`);
  for (const o of orders) {
    if (o.status !== 'CONFIRMED' && o.status !== 'CANCELLED')
      problems.push(`order ${o.id} ended ${o.status}`);
  }

  // 2. Stock conserved: initial = on hand + committed; committed exactly for confirmed orders; nothing held.
  const lines = await platform.sql<{ order_id: string; item_id: string; quantity: number }>(
    'orders',
    'SELECT order_id::text, item_id::text, quantity FROM order_lines',
  );
  const reservations = await platform.sql<{
    order_id: string;
    status: string;
    item_id: string;
    quantity: number;
  }>(
    'inventory',
    `SELECT r.order_id::text, r.status::text, l.item_id::text, l.quantity
     FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id`,
  );
  const stock = await platform.sql<{ id: string; quantity: number }>(
    'inventory',
    'SELECT id::text, quantity FROM items',
  );
  const onHand = new Map(stock.map((s) => [s.id, s.quantity]));
  const committedByItem = new Map<string, number>();
  const confirmedByItem = new Map<string, number>();
  const reservationStatus = new Map<string, string>();
  for (const r of reservations) {
    reservationStatus.set(r.order_id, r.status);
    if (r.status === 'held')
      problems.push(`order ${r.order_id} (${byId.get(r.order_id)?.status}) still holds stock`);
    if (r.status === 'committed')
      committedByItem.set(r.item_id, (committedByItem.get(r.item_id) ?? 0) + r.quantity);
  }
  for (const l of lines) {
    if (byId.get(l.order_id)?.status === 'CONFIRMED')
      confirmedByItem.set(l.item_id, (confirmedByItem.get(l.item_id) ?? 0) + l.quantity);
  }
  for (const item of items) {
    const hand = onHand.get(item.id) ?? Number.NaN;
    const committed = committedByItem.get(item.id) ?? 0;
    const confirmed = confirmedByItem.get(item.id) ?? 0;
    if (hand + committed !== item.initialQuantity)
      problems.push(
        `item ${item.id}: initial ${item.initialQuantity} != on hand ${hand} + committed ${committed}`,
      );
    if (committed !== confirmed)
      problems.push(`item ${item.id}: committed ${committed} != confirmed ${confirmed}`);
  }
  for (const o of orders) {
    const r = reservationStatus.get(o.id);
    if (o.status === 'CONFIRMED' && r !== 'committed')
      problems.push(`confirmed order ${o.id} has reservation ${r}`);
    if (o.status === 'CANCELLED' && r === 'committed')
      problems.push(`cancelled order ${o.id} has committed stock`);
  }

  // 3. No payment captured twice; the merchant holds exactly the confirmed totals, nothing stays on hold.
  const captures = await platform.sql<{ order_id: string; n: number }>(
    'payments',
    `SELECT order_id::text, count(*)::int AS n FROM payment_operations
     WHERE kind = 'capture' AND result = 'succeeded' GROUP BY order_id HAVING count(*) > 1`,
  );
  for (const c of captures) problems.push(`order ${c.order_id} captured ${c.n} times`);
  const balances = await platform.sql<{ order_id: string; account: string; total: string }>(
    'payments',
    `SELECT p.order_id::text, e.account::text, sum(e.amount_cents)::text AS total
     FROM ledger_entries e JOIN payments p ON p.id = e.payment_id GROUP BY p.order_id, e.account`,
  );
  const merchant = new Map<string, number>();
  for (const b of balances) {
    if (b.account === 'merchant') merchant.set(b.order_id, Number(b.total));
    if (b.account === 'hold' && Number(b.total) !== 0)
      problems.push(`order ${b.order_id} (${byId.get(b.order_id)?.status}) leaves ${b.total} on hold`);
  }
  for (const o of orders) {
    const expected = o.status === 'CONFIRMED' ? Number(o.total_cents) : 0;
    const got = merchant.get(o.id) ?? 0;
    if (got !== expected)
      problems.push(`order ${o.id} (${o.status}): merchant got ${got}, expected ${expected}`);
  }

  // 4. The buyer is told once, of the outcome that happened.
  const notes = await platform.sql<{ user_id: string; kind: string; order_id: string; n: number }>(
    'notifications',
    `SELECT user_id::text, kind, data->>'orderId' AS order_id, count(*)::int AS n FROM notifications
     WHERE kind IN ('order_confirmed', 'order_cancelled') GROUP BY user_id, kind, data->>'orderId'`,
  );
  const notified = new Map<string, { user_id: string; kind: string; n: number }[]>();
  for (const n of notes) notified.set(n.order_id, [...(notified.get(n.order_id) ?? []), n]);
  for (const o of orders) {
    const want = o.status === 'CONFIRMED' ? 'order_confirmed' : 'order_cancelled';
    const got = notified.get(o.id) ?? [];
    const ok = got.length === 1 && got[0]!.kind === want && got[0]!.n === 1 && got[0]!.user_id === o.user_id;
    if (!ok) problems.push(`order ${o.id} (${o.status}) notified ${JSON.stringify(got)}`);
  }
  return problems;
}
