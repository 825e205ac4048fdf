import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useSuite } from '@souk/harness/suite';
import { OrderCancelled, OrderConfirmed, uuidv7 } from '@souk/kit/events/index';
import { type Browser, chromium } from 'playwright-core';
import { test } from 'uvu';
import { createGateway, type GatewayRoute } from '../../../scripts/platform/src/gateway.ts';
import { chartServices } from '../../../scripts/platform/src/services.ts';
import { customer, PASSWORD, Publisher, startNotifications, startUsersFor } from './support.ts';

// The live console in real headless Chromium, behind the local gateway (same origin for
// /sessions, /notifications and /console, routed by the chart's path prefixes).
const s = await useSuite('notifications-console');
const users = await startUsersFor(s);
const notifications = await startNotifications(s, users.url);
const targets: Record<string, string> = { users: users.url, notifications: notifications.url };
const routes: GatewayRoute[] = Object.entries(chartServices()).flatMap(([service, v]) =>
  targets[service] ? (v.paths ?? []).map((prefix) => ({ prefix, service, target: targets[service]! })) : [],
);
const gateway: Server = createGateway(() => routes);
await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
const publisher = new Publisher(s);
await publisher.connect();
const browser: Browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
// Screenshots to look at the page, only when asked for (a folder outside the repository).
const shots = process.env['CONSOLE_SCREENSHOTS'];

async function signIn(email: string, password: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}/console`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#panels:not([hidden])', { timeout: 15_000 });
  return { page, context, errors };
}

test('a customer signs in through the page and sees an order notification arrive live', async () => {
  const alice = await customer(users.url, 'alice');
  const { page, context, errors } = await signIn(alice.email, PASSWORD);
  assert.equal(await page.textContent('#who-name'), alice.email);
  await page.waitForSelector('#notification-list .item.kind-welcome', { timeout: 30_000 });
  await page.waitForSelector('#link.live', { timeout: 10_000 });
  const orderId = uuidv7();
  await publisher.send(
    'orders.events',
    OrderConfirmed.create(orderId, {
      orderId,
      userId: alice.id,
      paymentId: uuidv7(),
      totalCents: 12_900,
      currency: 'EUR',
    }),
  );
  const item = await page.waitForSelector('#notification-list .item.kind-order_confirmed', {
    timeout: 20_000,
  });
  assert.match((await item.textContent()) ?? '', new RegExp(orderId.slice(-8)));
  assert.match((await item.textContent()) ?? '', /129\.00 EUR/);
  const other = uuidv7();
  await publisher.send(
    'orders.events',
    OrderCancelled.create(other, { orderId: other, userId: alice.id, reason: 'stock_rejected' }),
  );
  await page.waitForSelector('#notification-list .item.kind-order_cancelled', { timeout: 20_000 });
  // Newest first, the unread count follows the list.
  const items = await page.$$('#notification-list .item');
  const kinds = await Promise.all(items.map((i) => i.getAttribute('data-kind')));
  assert.deepEqual(kinds, ['order_cancelled', 'order_confirmed', 'welcome']);
  assert.equal(await page.textContent('#unread'), '3');
  assert.equal(await page.isHidden('#events'), true);
  if (shots) await page.screenshot({ path: `${shots}/notifications-console-customer.png`, fullPage: true });
  await page.click('#read-all');
  await page.waitForSelector('#unread:text-is("0")');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an admin watches the event stream', async () => {
  const { page, context, errors } = await signIn(users.admin.email, users.admin.password);
  await page.waitForSelector('#events:not([hidden])');
  await page.waitForSelector('#link.live', { timeout: 10_000 });
  const orderId = uuidv7();
  await publisher.send(
    'orders.events',
    OrderConfirmed.create(orderId, {
      orderId,
      userId: uuidv7(),
      paymentId: uuidv7(),
      totalCents: 500,
      currency: 'EUR',
    }),
    OrderCancelled.create(orderId, { orderId, userId: uuidv7(), reason: 'payment_declined' }),
  );
  await page.waitForSelector('#event-list tr[data-type="OrderCancelled"]', { timeout: 20_000 });
  const rows = await page.$$eval('#event-list tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
  assert.ok(rows.some((r) => r.includes('OrderConfirmed') && r.includes(orderId.slice(-8))));
  assert.ok(await page.$('#charts'), 'the charts placeholder is there');
  if (shots) await page.screenshot({ path: `${shots}/notifications-console-admin.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test.after(async () => {
  await browser.close();
  await publisher.disconnect();
  await new Promise<void>((resolve) => gateway.close(() => resolve()));
  gateway.closeAllConnections();
  await notifications.stop();
  await users.stop();
  await s.close();
});

test.run();
