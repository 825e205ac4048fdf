import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePorts } from '@souk/harness/infra/ports';
import { makeTempDir } from '@souk/harness/infra/temp-dirs';
import { useSuite } from '@souk/harness/suite';
import { OrderCancelled, OrderConfirmed, uuidv7 } from '@souk/kit/events/index';
import { type Browser, chromium } from 'playwright-core';
import { test } from 'uvu';
import { createGateway, type GatewayRoute } from '../../../scripts/platform/src/gateway.ts';
import { type PrometheusHandle, startPrometheus } from '../../../scripts/platform/src/prometheus.ts';
import { chartServices } from '../../../scripts/platform/src/services.ts';
import { call, customer, login, PASSWORD, Publisher, startNotifications, startUsersFor } from './support.ts';

// The live console in real headless Chromium, behind the local gateway (same origin for
// /sessions, /notifications and /console, routed by the chart's path prefixes), with a real
// Prometheus scraping the services for the console's charts.
const s = await useSuite('notifications-console');
const users = await startUsersFor(s);
const [prometheusPort] = await freePorts(1);
const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
const notifications = await startNotifications(s, users.url, {
  PROMETHEUS_URL: prometheusUrl,
  CHART_RATE_WINDOW: '10s',
});
const prometheusDir = makeTempDir('console-prometheus');
const prometheus: PrometheusHandle = await startPrometheus({
  dir: prometheusDir,
  port: prometheusPort!,
  intervalSeconds: 1,
  targets: [
    { job: 'users', address: new URL(users.url).host },
    { job: 'notifications', address: new URL(notifications.url).host },
  ],
});
const targets: Record<string, string> = { users: users.url, notifications: notifications.url };
const routesTo = (t: Record<string, string>): GatewayRoute[] =>
  Object.entries(chartServices()).flatMap(([service, v]) =>
    t[service] ? (v.paths ?? []).map((prefix) => ({ prefix, service, target: t[service]! })) : [],
  );
let routes: GatewayRoute[] = routesTo(targets);
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
  if (shots) await page.screenshot({ path: `${shots}/notifications-console-admin.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('an admin sees live charts of the figures Prometheus scraped; figures without traffic say so', async () => {
  const { page, context, errors } = await signIn(users.admin.email, users.admin.password);
  await page.waitForSelector('#charts[data-state="ok"]', { timeout: 20_000 });
  // Request latency has data once Prometheus has scraped the sign-in and the page's own requests.
  const latency = await page.waitForSelector('.chart[data-chart="latency"][data-state="data"]', {
    timeout: 30_000,
  });
  assert.ok(await latency.$('svg path.line'), 'a line is drawn');
  const legend = await latency.$$eval('.legend li', (lis) => lis.map((li) => li.textContent ?? ''));
  assert.ok(
    legend.some((l) => /^notifications \d/.test(l) || /^users \d/.test(l)),
    `legend names the services with a figure: ${legend.join(' | ')}`,
  );
  const outbox = await page.waitForSelector('.chart[data-chart="outbox"][data-state="data"]', {
    timeout: 20_000,
  });
  assert.match((await outbox.textContent()) ?? '', /users/);
  // No orders service runs here: the saga charts are drawn empty, clearly.
  const orders = await page.$('.chart[data-chart="orders"]');
  assert.equal(await orders?.getAttribute('data-state'), 'empty');
  assert.match((await orders?.textContent()) ?? '', /no data yet/);
  const ids = await page.$$eval('#charts .chart', (fs) => fs.map((f) => f.getAttribute('data-chart')));
  assert.deepEqual(ids, ['orders', 'saga-duration', 'latency', 'outbox', 'cache']);
  if (shots) await page.screenshot({ path: `${shots}/notifications-console-charts.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the charts are for admins, and say so clearly when no Prometheus is configured', async () => {
  const alice = await customer(users.url, 'charts');
  assert.equal((await call(notifications.url, 'GET', '/console/charts', { token: alice.token })).status, 403);
  assert.equal((await call(notifications.url, 'GET', '/console/charts')).status, 401);
  const adminToken = await login(users.url, users.admin.email, users.admin.password);
  const bad = await call(notifications.url, 'GET', '/console/charts?minutes=0', { token: adminToken });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /minutes/);

  // Another instance without PROMETHEUS_URL (on topics of its own), behind the same gateway.
  const bare = await startNotifications(s, users.url, { KAFKA_TOPIC_PREFIX: `${s.id}.bare.` });
  try {
    const answer = await call(bare.url, 'GET', '/console/charts', { token: adminToken });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body['prometheus'], 'not_configured');
    assert.deepEqual(answer.body['charts'], []);
    routes = routesTo({ ...targets, notifications: bare.url });
    const { page, context, errors } = await signIn(users.admin.email, users.admin.password);
    await page.waitForSelector('#charts[data-state="unconfigured"]', { timeout: 15_000 });
    assert.match((await page.textContent('#charts')) ?? '', /No Prometheus configured/);
    assert.equal(await page.$$eval('#charts .chart', (fs) => fs.length), 0);
    // A customer never sees the charts section.
    await context.close();
    const c = await signIn(alice.email, PASSWORD);
    assert.equal(await c.page.isHidden('#charts'), true);
    await c.context.close();
    assert.deepEqual([...errors, ...c.errors], []);
  } finally {
    routes = routesTo(targets);
    await bare.stop();
  }
});

test.after(async () => {
  await browser.close();
  await publisher.disconnect();
  await new Promise<void>((resolve) => gateway.close(() => resolve()));
  gateway.closeAllConnections();
  await prometheus.stop();
  rmSync(prometheusDir, { recursive: true, force: true });
  await notifications.stop();
  await users.stop();
  await s.close();
});

test.run();
