import assert from 'node:assert/strict';
import { useSuite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import { uuidv7 } from '@souk/kit/events/index';
import { test } from 'uvu';
import { createPayments } from '../src/app.ts';
import { paymentsConfig } from '../src/config.ts';
import type { Tx } from '../src/data/database.ts';
import { TEST_CARDS } from '../src/domain/test-cards.ts';
import { commands, ledgerOf, paymentsEnv } from './support.ts';

// The ledger's rules, applied through the domain in real transactions on the service's database
// (the consumer is not started: these steps are called directly, as the consumer calls them).
const s = await useSuite('payments-rules');
const payments = await createPayments({
  config: loadConfig(paymentsConfig, paymentsEnv(s, 'http://127.0.0.1:9', { LOG_LEVEL: 'silent' })),
});
const { steps } = payments;
const db = payments.db.primary;
const run = <R>(fn: (tx: Tx) => Promise<R>) => db.$transaction(fn, { timeout: 20_000 });

async function outbox(orderId: string) {
  const rows = await db.$queryRawUnsafe<{ event_type: string; envelope: { id: string; data: unknown } }[]>(
    'SELECT event_type, envelope FROM souk_outbox WHERE aggregate_id = $1 ORDER BY seq',
    orderId,
  );
  return rows.map((r) => ({ type: r.event_type, id: r.envelope.id, data: r.envelope.data }));
}

async function authorized(amountCents: number) {
  const command = commands.authorize(TEST_CARDS.approve, amountCents);
  await run((tx) => steps.authorize(tx, command.data));
  const payment = await db.payment.findUniqueOrThrow({ where: { orderId: command.aggregateId } });
  return { orderId: command.aggregateId, paymentId: payment.id };
}

test('two concurrent captures of one payment: one captures, the other is rejected', async () => {
  const { orderId, paymentId } = await authorized(10_000);
  const results = await Promise.allSettled([
    run((tx) => steps.capture(tx, commands.capture(orderId, paymentId, 10_000).data)),
    run((tx) => steps.capture(tx, commands.capture(orderId, paymentId, 10_000).data)),
  ]);
  const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value.outcomeType : String(r.reason)));
  assert.deepEqual(outcomes.sort(), ['PaymentCaptured', 'PaymentCommandRejected']);
  const { payment, operations, balances } = await ledgerOf(payments, orderId);
  assert.equal(payment?.status, 'captured');
  assert.equal(payment?.capturedCents, 10_000n);
  assert.equal(operations.filter((o) => o.kind === 'capture' && o.result === 'succeeded').length, 1);
  const rejected = operations.find((o) => o.result === 'rejected');
  assert.equal(rejected?.reason, 'already_captured');
  assert.deepEqual(balances, { customer: -10_000, hold: 0, merchant: 10_000 });
});

test('the database itself refuses a second capture and a capture above the authorization', async () => {
  const { orderId, paymentId } = await authorized(500);
  await run((tx) => steps.capture(tx, commands.capture(orderId, paymentId, 500).data));
  const op = await db.paymentOperation.findFirstOrThrow({ where: { paymentId, kind: 'capture' } });
  await assert.rejects(
    db.paymentOperation.create({
      data: { ...op, id: uuidv7(), stepId: uuidv7(), outcome: op.outcome ?? {} },
    }),
    /Unique constraint/,
  );
  await assert.rejects(
    db.$executeRawUnsafe('UPDATE payments SET captured_cents = 501 WHERE id = $1::uuid', paymentId),
    /payments_amounts_check/,
  );
  await assert.rejects(
    db.$executeRawUnsafe('UPDATE payments SET refunded_cents = 501 WHERE id = $1::uuid', paymentId),
    /payments_amounts_check/,
  );
});

test('the ledger balances every operation and is append-only', async () => {
  const { paymentId } = await authorized(300);
  const entry = await db.ledgerEntry.findFirstOrThrow({ where: { paymentId } });
  await assert.rejects(
    db.ledgerEntry.create({
      data: {
        operationId: entry.operationId,
        paymentId,
        account: 'merchant',
        amountCents: 1n,
        currency: 'EUR',
      },
    }),
    /do not balance/,
  );
  await assert.rejects(
    db.$executeRawUnsafe('DELETE FROM ledger_entries WHERE id = $1', entry.id),
    /never changed or deleted/,
  );
});

test('a partial capture captures what was asked and releases the rest', async () => {
  const { orderId, paymentId } = await authorized(10_000);
  const result = await run((tx) => steps.capture(tx, commands.capture(orderId, paymentId, 7_500).data));
  assert.equal(result.outcomeType, 'PaymentCaptured');
  const { payment, entries, balances } = await ledgerOf(payments, orderId);
  assert.equal(payment?.capturedCents, 7_500n);
  assert.deepEqual(
    entries.slice(2).map((e) => [e.account, Number(e.amountCents)]),
    [
      ['hold', -7_500],
      ['merchant', 7_500],
      ['hold', -2_500],
      ['customer', 2_500],
    ],
  );
  assert.deepEqual(balances, { customer: -7_500, hold: 0, merchant: 7_500 });
});

test('a capture above the authorization or in another currency is rejected, nothing moves', async () => {
  const { orderId, paymentId } = await authorized(1_000);
  const above = await run((tx) => steps.capture(tx, commands.capture(orderId, paymentId, 1_001).data));
  const currency = await run((tx) =>
    steps.capture(tx, commands.capture(orderId, paymentId, 1_000, uuidv7(), 'USD').data),
  );
  const other = await run((tx) => steps.capture(tx, commands.capture(orderId, uuidv7(), 1_000).data));
  const events = await outbox(orderId);
  assert.deepEqual(
    events.slice(1).map((e) => (e.data as { reason: string }).reason),
    ['exceeds_authorization', 'currency_mismatch', 'payment_mismatch'],
  );
  assert.deepEqual([above.result, currency.result, other.result], ['rejected', 'rejected', 'rejected']);
  const { payment, balances } = await ledgerOf(payments, orderId);
  assert.equal(payment?.status, 'authorized');
  assert.deepEqual(balances, { customer: -1_000, hold: 1_000, merchant: 0 });
});

test('refunds never exceed the capture, in total', async () => {
  const { orderId, paymentId } = await authorized(5_000);
  const early = await run((tx) => steps.refund(tx, commands.refund(orderId, paymentId, 100).data));
  assert.equal(early.result, 'rejected');
  await run((tx) => steps.capture(tx, commands.capture(orderId, paymentId, 4_000).data));
  const first = await run((tx) => steps.refund(tx, commands.refund(orderId, paymentId, 3_000).data));
  const tooMuch = await run((tx) => steps.refund(tx, commands.refund(orderId, paymentId, 1_001).data));
  const rest = await run((tx) => steps.refund(tx, commands.refund(orderId, paymentId, 1_000).data));
  const more = await run((tx) => steps.refund(tx, commands.refund(orderId, paymentId, 1).data));
  assert.deepEqual(
    [first.result, tooMuch.result, rest.result, more.result],
    ['succeeded', 'rejected', 'succeeded', 'rejected'],
  );
  const events = await outbox(orderId);
  const reasons = events
    .filter((e) => e.type === 'PaymentCommandRejected')
    .map((e) => (e.data as { reason: string }).reason);
  assert.deepEqual(reasons, ['not_captured', 'exceeds_captured', 'exceeds_captured']);
  const refunded = events.filter((e) => e.type === 'PaymentRefunded').map((e) => e.data);
  assert.deepEqual(
    refunded.map((d) => [
      (d as { amountCents: number }).amountCents,
      (d as { refundedTotalCents: number }).refundedTotalCents,
    ]),
    [
      [3_000, 3_000],
      [1_000, 4_000],
    ],
  );
  const { payment, balances } = await ledgerOf(payments, orderId);
  assert.equal(payment?.refundedCents, 4_000n);
  assert.deepEqual(balances, { customer: 0, hold: 0, merchant: 0 });
});

test('a void releases the hold; after a capture it is refused', async () => {
  const a = await authorized(2_000);
  const voided = await run((tx) => steps.void(tx, commands.void(a.orderId, a.paymentId).data));
  assert.equal(voided.outcomeType, 'PaymentVoided');
  const [, event] = await outbox(a.orderId);
  assert.deepEqual(event?.data, {
    orderId: a.orderId,
    stepId: (event!.data as { stepId: string }).stepId,
    paymentId: a.paymentId,
    amountCents: 2_000,
    currency: 'EUR',
  });
  assert.deepEqual((await ledgerOf(payments, a.orderId)).balances, { customer: 0, hold: 0, merchant: 0 });
  const late = await run((tx) => steps.capture(tx, commands.capture(a.orderId, a.paymentId, 2_000).data));
  assert.equal(late.result, 'rejected', 'a voided payment cannot be captured');

  const b = await authorized(2_000);
  await run((tx) => steps.capture(tx, commands.capture(b.orderId, b.paymentId, 2_000).data));
  const refused = await run((tx) => steps.void(tx, commands.void(b.orderId, b.paymentId).data));
  assert.equal(refused.outcomeType, 'PaymentCommandRejected');
  const last = (await outbox(b.orderId)).at(-1);
  assert.equal((last!.data as { reason: string }).reason, 'captured');
  assert.deepEqual((await ledgerOf(payments, b.orderId)).balances, {
    customer: -2_000,
    hold: 0,
    merchant: 2_000,
  });
});

test('a void with nothing held (no payment yet, or a declined one) succeeds and releases 0', async () => {
  const orderId = uuidv7();
  await run((tx) => steps.void(tx, commands.void(orderId).data));
  const declined = commands.authorize(TEST_CARDS.decline, 800);
  await run((tx) => steps.authorize(tx, declined.data));
  await run((tx) => steps.void(tx, commands.void(declined.aggregateId).data));
  const [none] = await outbox(orderId);
  assert.equal(none?.type, 'PaymentVoided');
  assert.deepEqual(
    { ...(none?.data as object), stepId: undefined },
    { orderId, stepId: undefined, paymentId: null, amountCents: 0, currency: null },
  );
  const afterDecline = (await outbox(declined.aggregateId)).at(-1);
  assert.equal(afterDecline?.type, 'PaymentVoided');
  assert.equal((afterDecline!.data as { amountCents: number }).amountCents, 0);
});

test('a second authorization of one order by another step is rejected', async () => {
  const first = commands.authorize(TEST_CARDS.approve, 900);
  await run((tx) => steps.authorize(tx, first.data));
  const second = commands.authorize(TEST_CARDS.approve, 900, { orderId: first.aggregateId });
  const result = await run((tx) => steps.authorize(tx, second.data));
  assert.equal(result.result, 'rejected');
  const last = (await outbox(first.aggregateId)).at(-1);
  assert.equal((last!.data as { reason: string }).reason, 'duplicate_payment');
  assert.deepEqual((await ledgerOf(payments, first.aggregateId)).balances, {
    customer: -900,
    hold: 900,
    merchant: 0,
  });
});

test.after(async () => {
  await payments.stop();
  await s.close();
});

test.run();
