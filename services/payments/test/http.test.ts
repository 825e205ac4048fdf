import assert from 'node:assert/strict';
import { call as callJson } from '@souk/harness/http';
import { useSuite } from '@souk/harness/suite';
import { uuidv7 } from '@souk/kit/events/index';
import { test } from 'uvu';
import { startApp } from '../../users/test/support.ts';
import type { Tx } from '../src/data/database.ts';
import { TEST_CARDS } from '../src/domain/test-cards.ts';
import { commands, startPayments } from './support.ts';

// The operators' read-only HTTP surface, with tokens from the real users service.
const s = await useSuite('payments-http');
const ADMIN = { email: `admin-${s.id}@example.com`, password: 'correct horse battery staple' };
const users = await startApp(s, {
  LOG_LEVEL: 'silent',
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
});
const payments = await startPayments(s, users.url);
const run = <R>(fn: (tx: Tx) => Promise<R>) => payments.db.primary.$transaction(fn, { timeout: 20_000 });

function call(path: string, token?: string, method = 'GET', body?: unknown) {
  const base = path.startsWith('/sessions') || path.startsWith('/users') ? users.url : payments.url;
  return callJson(base, method, path, { ...(token ? { token } : {}), ...(body ? { body } : {}) });
}

async function login(email: string, password: string): Promise<string> {
  const session = await call('/sessions', undefined, 'POST', { email, password });
  assert.equal(session.status, 201, session.text);
  return session.body['accessToken'] as string;
}

const adminToken = await login(ADMIN.email, ADMIN.password);
const customerEmail = `customer-${s.id}@example.com`;
assert.equal(
  (await call('/users', undefined, 'POST', { email: customerEmail, password: ADMIN.password, name: 'c' }))
    .status,
  201,
);
const customerToken = await login(customerEmail, ADMIN.password);

test('an admin reads the ledger of an order: payment, steps, entries and balances', async () => {
  const authorize = commands.authorize(TEST_CARDS.approve, 2_599, { currency: 'GBP' });
  const orderId = authorize.aggregateId;
  await run((tx) => payments.steps.authorize(tx, authorize.data));
  const paymentId = (await payments.db.primary.payment.findUniqueOrThrow({ where: { orderId } })).id;
  await run((tx) =>
    payments.steps.capture(tx, commands.capture(orderId, paymentId, 2_000, uuidv7(), 'GBP').data),
  );
  await s.waitForReplica();

  const res = await call(`/payments/${orderId}`, adminToken);
  assert.equal(res.status, 200, res.text);
  const body = res.body as {
    payment: Record<string, unknown>;
    operations: { kind: string; result: string; stepId: string }[];
    entries: { account: string; amountCents: number; currency: string }[];
    balances: Record<string, number>;
  };
  assert.equal(body.payment['status'], 'captured');
  assert.equal(body.payment['authorizedCents'], 2_599);
  assert.equal(body.payment['capturedCents'], 2_000);
  assert.equal(body.payment['cardLast4'], '4242');
  assert.ok(!('cardToken' in body.payment), 'the card token stays inside');
  assert.deepEqual(
    body.operations.map((o) => `${o.kind}:${o.result}`),
    ['authorize:succeeded', 'capture:succeeded'],
  );
  assert.equal(body.operations[0]?.stepId, authorize.data.stepId);
  assert.deepEqual(
    body.entries.map((e) => [e.account, e.amountCents, e.currency]),
    [
      ['customer', -2_599, 'GBP'],
      ['hold', 2_599, 'GBP'],
      ['hold', -2_000, 'GBP'],
      ['merchant', 2_000, 'GBP'],
      ['hold', -599, 'GBP'],
      ['customer', 599, 'GBP'],
    ],
  );
  assert.deepEqual(body.balances, { customer: -2_000, hold: 0, merchant: 2_000 });
});

test('only admins: no token 401, a customer 403, a revoked admin token 401', async () => {
  const orderId = uuidv7();
  assert.equal((await call(`/payments/${orderId}`)).status, 401);
  assert.equal((await call(`/payments/${orderId}`, customerToken)).status, 403);
  const other = await login(ADMIN.email, ADMIN.password);
  assert.equal((await call(`/payments/${orderId}`, other)).status, 404);
  assert.equal((await call('/sessions/current', other, 'DELETE')).status, 204);
  assert.equal((await call(`/payments/${orderId}`, other)).status, 401);
});

test('an unknown order is 404, a malformed id 400', async () => {
  assert.equal((await call(`/payments/${uuidv7()}`, adminToken)).status, 404);
  assert.equal((await call('/payments/not-a-uuid', adminToken)).status, 400);
});

test('no writes: the only payments route is the read', async () => {
  const res = await call(`/payments/${uuidv7()}`, adminToken, 'POST', { amountCents: 1 });
  assert.ok([404, 405].includes(res.status), String(res.status));
  const openapi = await call('/openapi.json');
  assert.equal(openapi.status, 200);
  const paths = openapi.body['paths'] as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(paths['/payments/{orderId}'] ?? {}), ['get']);
});

test('probes and metrics', async () => {
  assert.equal((await call('/livez')).status, 200);
  const ready = await call('/readyz');
  assert.equal(ready.status, 200, ready.text);
  const metrics = await call('/metrics');
  for (const name of [
    'souk_payments_authorizations_total',
    'souk_payments_captures_total',
    'souk_payments_refunds_total',
    'souk_payments_voids_total',
    'souk_payments_provider_calls_total',
    'souk_outbox_pending',
  ]) {
    assert.ok(metrics.text.includes(name), name);
  }
});

test.after(async () => {
  await payments.stop();
  await users.stop();
  await s.close();
});

test.run();
