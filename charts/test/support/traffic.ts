/**
 * Shop traffic through the services' public APIs: sign-ups and logins (one failing), item reads that miss
 * and then hit the cache, orders that confirm and orders whose card is declined, and notification reads.
 * Every order's events go through the outbox, Kafka and the other services' consumers.
 */
import { type Answer, call } from '@souk/harness/http';
import { waitFor } from '@souk/harness/infra/processes';
import { CARDS, type ServiceName } from './services.ts';

function expect(a: Answer, status: number, what: string): Answer {
  if (a.status !== status) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
  return a;
}

export interface TrafficSummary {
  confirmed: number;
  cancelled: number;
}

export async function driveTraffic(
  url: Record<ServiceName, string>,
  opts: {
    approved: number;
    declined: number;
    /** Called before one last approved order: faults its events meet on their way to Kafka. */
    publishFaults?: () => Promise<void>;
  },
): Promise<TrafficSummary> {
  const password = 'Correct-horse-battery-9';
  const signUp = async (email: string) => {
    expect(
      await call(url.users, 'POST', '/users', { body: { email, password, name: email.split('@')[0] } }),
      201,
      `sign up ${email}`,
    );
    const session = expect(
      await call(url.users, 'POST', '/sessions', { body: { email, password } }),
      201,
      `log in ${email}`,
    );
    return session.body['accessToken'] as string;
  };
  const seller = await signUp('seller@souk.test');
  const buyer = await signUp('buyer@souk.test');
  expect(
    await call(url.users, 'POST', '/sessions', {
      body: { email: 'buyer@souk.test', password: 'wrong-1234567' },
    }),
    401,
    'a wrong password',
  );

  const items: string[] = [];
  for (let i = 0; i < 3; i++) {
    const created = expect(
      await call(url.inventory, 'POST', '/items', {
        token: seller,
        body: { title: `Thing ${i}`, priceCents: 500 + i * 100, currency: 'EUR', quantity: 100 },
      }),
      201,
      'create an item',
    );
    items.push(created.body['id'] as string);
  }
  // The first read of each item misses the cache, the next ones hit it.
  for (let round = 0; round < 4; round++) {
    for (const id of items) expect(await call(url.inventory, 'GET', `/items/${id}`), 200, 'read an item');
    expect(await call(url.inventory, 'GET', '/items'), 200, 'list items');
  }

  const cards = [
    ...Array.from({ length: opts.approved }, () => CARDS.approve),
    ...Array.from({ length: opts.declined }, () => CARDS.decline),
  ];
  const place = async (cardNumber: string, i: number) => {
    const res = expect(
      await call(url.orders, 'POST', '/orders', {
        token: buyer,
        headers: { 'idempotency-key': crypto.randomUUID() },
        body: {
          lines: [{ itemId: items[i % items.length]!, quantity: 1 + (i % 2) }],
          payment: { cardNumber },
          shippingNote: 'leave it at the door',
        },
      }),
      201,
      'place an order',
    );
    return res.body['id'] as string;
  };
  const settled = (id: string) =>
    waitFor(
      `order ${id} to settle`,
      async () => {
        const res = await call(url.orders, 'GET', `/orders/${id}`, { token: buyer });
        const status = res.body['status'];
        return status === 'CONFIRMED' || status === 'CANCELLED' ? status : undefined;
      },
      30_000,
      100,
    );
  const placed = await Promise.all(cards.map(place));
  const outcomes = await Promise.all(placed.map(settled));
  if (opts.publishFaults) {
    await opts.publishFaults();
    outcomes.push(await settled(await place(CARDS.approve, 0)));
  }
  expect(await call(url.orders, 'GET', '/orders', { token: buyer }), 200, 'list orders');
  expect(await call(url.notifications, 'GET', '/notifications', { token: buyer }), 200, 'notifications');
  return {
    confirmed: outcomes.filter((o) => o === 'CONFIRMED').length,
    cancelled: outcomes.filter((o) => o === 'CANCELLED').length,
  };
}
