/**
 * `npm start -- --demo`: a short scripted scenario over the public HTTP API, for watching the order
 * saga in the live console. The customer places orders that confirm, one that a test card
 * declines (payments' deterministic decline card) and one for an item out of stock; each is
 * followed until its saga ends. The end-to-end test runs the same scenario.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from './api-client.ts';
import type { CatalogueEntry, Seeded } from './seed.ts';

/** Test cards (services/payments/README.md). */
export const CARDS = { approved: '4242 4242 4242 4242', declined: '4000 0000 0000 0002' } as const;

export interface DemoStep {
  label: string;
  lines: { item: CatalogueEntry['key']; quantity: number }[];
  card: string;
  expect: { status: 'CONFIRMED' } | { status: 'CANCELLED'; reason: string };
}

export const DEMO_STEPS: readonly DemoStep[] = [
  {
    label: 'two teapots, approved card',
    lines: [{ item: 'teapot', quantity: 2 }],
    card: CARDS.approved,
    expect: { status: 'CONFIRMED' },
  },
  {
    label: 'a lantern and tea glasses, approved card',
    lines: [
      { item: 'lantern', quantity: 1 },
      { item: 'glasses', quantity: 1 },
    ],
    card: CARDS.approved,
    expect: { status: 'CONFIRMED' },
  },
  {
    label: 'a spice box, declined card (stock reserved, then released)',
    lines: [{ item: 'spices', quantity: 1 }],
    card: CARDS.declined,
    expect: { status: 'CANCELLED', reason: 'payment_declined' },
  },
  {
    label: 'the sold-out rug (stock rejected)',
    lines: [{ item: 'rug', quantity: 1 }],
    card: CARDS.approved,
    expect: { status: 'CANCELLED', reason: 'stock_rejected' },
  },
  {
    label: 'a teapot, approved card',
    lines: [{ item: 'teapot', quantity: 1 }],
    card: CARDS.approved,
    expect: { status: 'CONFIRMED' },
  },
];

export interface OrderView {
  id: string;
  status: 'PENDING' | 'CANCELLING' | 'CONFIRMED' | 'CANCELLED';
  cancelReason: string | null;
  totalCents: number;
  currency: string;
}

export interface DemoResult {
  step: DemoStep;
  order: OrderView;
  /** The saga ended as the step expects. */
  asExpected: boolean;
  seconds: number;
}

export interface DemoOptions {
  /** Pause between orders, so a person can follow them in the console (0 in tests). */
  paceMs?: number;
  /** How long one saga may take to end. */
  timeoutMs?: number;
  onResult?: (r: DemoResult) => void;
}

async function finished(api: ApiClient, token: string, id: string, timeoutMs: number): Promise<OrderView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const order = await api.get<OrderView>(`/orders/${id}`, { token });
    if (order.status === 'CONFIRMED' || order.status === 'CANCELLED') return order;
    if (Date.now() > deadline)
      throw new Error(`order ${id} is still ${order.status} after ${timeoutMs} ms (see .souk/logs)`);
    await sleep(200);
  }
}

/** Places every step's order as the seeded customer and waits for each saga to end. */
export async function runDemo(base: string, seeded: Seeded, o: DemoOptions = {}): Promise<DemoResult[]> {
  const api = new ApiClient(base);
  const token = seeded.customer.token;
  const pending: Promise<DemoResult>[] = [];
  for (const [i, step] of DEMO_STEPS.entries()) {
    if (i > 0 && o.paceMs) await sleep(o.paceMs);
    const t0 = performance.now();
    const placed = await api.post<OrderView>(
      '/orders',
      {
        lines: step.lines.map((l) => ({ itemId: seeded.items[l.item].id, quantity: l.quantity })),
        payment: { cardNumber: step.card },
        shippingNote: `demo: ${step.label}`,
      },
      { token, headers: { 'Idempotency-Key': `demo-${randomUUID()}` } },
    );
    const result = finished(api, token, placed.id, o.timeoutMs ?? 60_000).then((order) => {
      const asExpected =
        order.status === step.expect.status &&
        (step.expect.status === 'CONFIRMED' || order.cancelReason === step.expect.reason);
      const r = { step, order, asExpected, seconds: (performance.now() - t0) / 1000 };
      o.onResult?.(r);
      return r;
    });
    // Followed while the next orders are placed; a failure surfaces below, in order.
    result.catch(() => {});
    pending.push(result);
  }
  const results: DemoResult[] = [];
  for (const r of pending) results.push(await r);
  return results;
}
