import { TEST_CARDS } from '../../../payments/src/domain/test-cards.ts';
import { call } from '../platform.ts';
import type { Random } from './random.ts';

export type CardKind = keyof typeof TEST_CARDS;

/** The mix of cards: most approve, the rest decline, hang, fail or fail twice then approve. */
export const CARD_MIX: readonly (readonly [CardKind, number])[] = [
  ['approve', 70],
  ['flaky', 6],
  ['decline', 8],
  ['insufficientFunds', 6],
  ['timeout', 5],
  ['error', 5],
];

export interface Buyer {
  userId: string;
  token: string;
}

export interface StockedItem {
  id: string;
  priceCents: number;
  initialQuantity: number;
  /** Little stock: orders for it run out, and their sagas end with StockRejected. */
  scarce: boolean;
}

export interface PlannedOrder {
  key: string;
  buyer: Buyer;
  card: CardKind;
  lines: { itemId: string; quantity: number }[];
}

export interface PlacedOrder extends PlannedOrder {
  id: string;
  /** Date.now() when the first POST went out, and when one answered 201. */
  sentAt: number;
  placedAt: number;
  /** POSTs it took (the same Idempotency-Key each time). */
  attempts: number;
}

/** `count` orders of random buyers, 1–3 lines of 1–3 units, some on scarce items, random cards. */
export function planOrders(
  rng: Random,
  count: number,
  buyers: Buyer[],
  items: StockedItem[],
): PlannedOrder[] {
  const plentiful = items.filter((i) => !i.scarce);
  const scarce = items.filter((i) => i.scarce);
  return Array.from({ length: count }, () => {
    const chosen = new Set<StockedItem>();
    const lines = rng.int(1, 3);
    if (scarce.length > 0 && rng.next() < 0.2) chosen.add(rng.pick(scarce));
    while (chosen.size < lines) chosen.add(rng.pick(plentiful));
    return {
      key: crypto.randomUUID(),
      buyer: rng.pick(buyers),
      card: rng.weighted(CARD_MIX),
      lines: [...chosen].map((item) => ({ itemId: item.id, quantity: rng.int(1, 3) })),
    };
  });
}

/**
 * POST /orders with the order's Idempotency-Key until it answers 201: a refused connection, a
 * reset, a 5xx or a 429 (the service killed, restarting, or its dependencies failing over) is
 * tried again with the same key, so the order exists exactly once. Any other answer throws.
 */
export async function placeOrder(ordersUrl: () => string, order: PlannedOrder, giveUpMs = 300_000) {
  const sentAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    const res = await call(ordersUrl(), 'POST', '/orders', {
      token: order.buyer.token,
      headers: { 'Idempotency-Key': order.key },
      body: { lines: order.lines, payment: { cardNumber: TEST_CARDS[order.card] } },
    }).catch((error: unknown) => error as Error);
    if (!(res instanceof Error) && res.status === 201) {
      return { ...order, id: res.body['id'] as string, sentAt, placedAt: Date.now(), attempts: attempt };
    }
    const retriable = res instanceof Error || res.status >= 500 || res.status === 429;
    if (!retriable || Date.now() - sentAt > giveUpMs) {
      const what = res instanceof Error ? res.message : `${res.status} ${JSON.stringify(res.body)}`;
      throw new Error(`POST /orders (key ${order.key}, attempt ${attempt}): ${what}`);
    }
    // Backing off: a restarting service on a loaded machine must not be buried under retries.
    await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** Math.min(attempt, 5))));
  }
}

/**
 * Places the planned orders at `ratePerSecond` (open loop: a slow answer does not slow the
 * arrivals), at most `maxInFlight` at once; resolves with every order once all are placed.
 */
export async function runWorkload(
  ordersUrl: () => string,
  planned: PlannedOrder[],
  o: { ratePerSecond: number; maxInFlight: number; onPlaced?: (order: PlacedOrder) => void },
): Promise<PlacedOrder[]> {
  const placed: PlacedOrder[] = [];
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(o.maxInFlight, planned.length) }, async () => {
      while (next < planned.length) {
        const n = next++;
        const due = started + (n * 1000) / o.ratePerSecond;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const order = await placeOrder(ordersUrl, planned[n]!);
        placed.push(order);
        o.onPlaced?.(order);
      }
    }),
  );
  return placed;
}
