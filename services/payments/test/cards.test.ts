import assert from 'node:assert/strict';
import { useSuite } from '@souk/harness/suite';
import { Header } from '@souk/kit/events/index';
import { test } from 'uvu';
import { TEST_CARDS } from '../src/domain/test-cards.ts';
import { commands, ledgerOf, Saga, settle, startPayments } from './support.ts';

// Each test card's outcome, read back from payments.events as the saga reads it.
const s = await useSuite('payments-cards');
const payments = await startPayments(s);
const saga = new Saga(s);
await saga.start();
await payments.joined();

test('an approved card holds the exact amount: PaymentAuthorized, customer → hold', async () => {
  const command = commands.authorize(TEST_CARDS.approve, 12_345, { currency: 'EUR' });
  await saga.send(command);
  const [outcome] = await saga.waitForOutcomes(command.aggregateId, 1);
  assert.equal(outcome?.type, 'PaymentAuthorized');
  const data = outcome!.data as Record<string, unknown>;
  const { payment, operations, entries, balances } = await ledgerOf(payments, command.aggregateId);
  assert.deepEqual(data, {
    orderId: command.aggregateId,
    stepId: command.data.stepId,
    paymentId: payment!.id,
    amountCents: 12_345,
    currency: 'EUR',
    last4: '4242',
  });
  assert.equal(outcome?.aggregateId, command.aggregateId, 'keyed by order id');
  assert.equal(payment?.status, 'authorized');
  assert.equal(payment?.authorizedCents, 12_345n);
  assert.equal(operations.length, 1);
  assert.equal(operations[0]?.attempts, 1);
  assert.deepEqual(
    entries.map((e) => [e.account, Number(e.amountCents), e.currency]),
    [
      ['customer', -12_345, 'EUR'],
      ['hold', 12_345, 'EUR'],
    ],
  );
  assert.deepEqual(balances, { customer: -12_345, hold: 12_345, merchant: 0 });
});

for (const [card, reason] of [
  [TEST_CARDS.decline, 'card_declined'],
  [TEST_CARDS.insufficientFunds, 'insufficient_funds'],
] as const) {
  test(`card ${card}: PaymentDeclined (${reason}), nothing held`, async () => {
    const command = commands.authorize(card, 999, { currency: 'USD' });
    await saga.send(command);
    const [outcome] = await saga.waitForOutcomes(command.aggregateId, 1);
    const { payment, entries } = await ledgerOf(payments, command.aggregateId);
    assert.equal(outcome?.type, 'PaymentDeclined');
    assert.deepEqual(outcome?.data, {
      orderId: command.aggregateId,
      stepId: command.data.stepId,
      paymentId: payment!.id,
      reason,
    });
    assert.equal(payment?.status, 'declined');
    assert.equal(payment?.requestedCents, 999n);
    assert.equal(payment?.authorizedCents, 0n);
    assert.equal(entries.length, 0);
  });
}

test('the timeout card: no answer within PROVIDER_TIMEOUT_MS, one attempt, PaymentFailed provider_timeout', async () => {
  const command = commands.authorize(TEST_CARDS.timeout, 5_000);
  const sent = Date.now();
  await saga.send(command);
  const [outcome] = await saga.waitForOutcomes(command.aggregateId, 1);
  assert.ok(Date.now() - sent >= 400, 'not before the provider timeout');
  const { payment, operations, entries } = await ledgerOf(payments, command.aggregateId);
  assert.equal(outcome?.type, 'PaymentFailed');
  assert.deepEqual(outcome?.data, {
    orderId: command.aggregateId,
    stepId: command.data.stepId,
    paymentId: payment!.id,
    reason: 'provider_timeout',
    attempts: 1,
  });
  assert.equal(payment?.status, 'failed');
  assert.equal(operations[0]?.result, 'failed');
  assert.equal(entries.length, 0);
});

test('after a timeout the saga compensates with a void: PaymentVoided releasing 0', async () => {
  const command = commands.authorize(TEST_CARDS.timeout, 5_000);
  const orderId = command.aggregateId;
  // The saga's deadline may fire before the outcome: it voids without knowing the payment id.
  await saga.send(command, commands.void(orderId));
  const [failed, voided] = await saga.waitForOutcomes(orderId, 2);
  assert.equal(failed?.type, 'PaymentFailed');
  assert.equal(voided?.type, 'PaymentVoided');
  const paymentId = (failed!.data as { paymentId: string }).paymentId;
  assert.deepEqual(
    { ...(voided!.data as object), stepId: undefined },
    {
      orderId,
      stepId: undefined,
      paymentId,
      amountCents: 0,
      currency: 'EUR',
    },
  );
  const { payment, balances } = await ledgerOf(payments, orderId);
  assert.equal(payment?.status, 'failed');
  assert.deepEqual(balances, { customer: 0, hold: 0, merchant: 0 });
});

test('the error card: retried PROVIDER_MAX_ATTEMPTS times with backoff, then PaymentFailed provider_error', async () => {
  const command = commands.authorize(TEST_CARDS.error, 700);
  await saga.send(command);
  const [outcome] = await saga.waitForOutcomes(command.aggregateId, 1);
  const { payment, entries } = await ledgerOf(payments, command.aggregateId);
  assert.equal(outcome?.type, 'PaymentFailed');
  assert.deepEqual(outcome?.data, {
    orderId: command.aggregateId,
    stepId: command.data.stepId,
    paymentId: payment!.id,
    reason: 'provider_error',
    attempts: 3,
  });
  assert.equal(entries.length, 0);
});

test('the flaky card: two transient errors, then approved on the third attempt', async () => {
  const command = commands.authorize(TEST_CARDS.flaky, 4_200);
  await saga.send(command);
  const [outcome] = await saga.waitForOutcomes(command.aggregateId, 1);
  const { operations, balances } = await ledgerOf(payments, command.aggregateId);
  assert.equal(outcome?.type, 'PaymentAuthorized');
  assert.equal((outcome!.data as { amountCents: number }).amountCents, 4_200);
  assert.equal(operations[0]?.attempts, 3);
  assert.deepEqual(balances, { customer: -4_200, hold: 4_200, merchant: 0 });
});

test('any other valid card is approved', async () => {
  const command = commands.authorize('5555 5555 5555 4444', 1);
  await saga.send(command);
  const [outcome] = await saga.waitForOutcomes(command.aggregateId, 1);
  assert.equal(outcome?.type, 'PaymentAuthorized');
  assert.equal((outcome!.data as { last4: string }).last4, '4444');
});

test('an invalid command goes to orders.events.dlq with the reason, and nothing moves', async () => {
  const orderId = '0195f1c2-7a3b-7c00-8000-0000000000ff';
  const bad = commands.authorize(TEST_CARDS.approve, 100, { orderId });
  const broken = { ...bad, data: { ...bad.data, card: { number: '4242424242424242', last4: '4242' } } };
  await saga.sendRaw(orderId, JSON.stringify(broken), {
    [Header.eventId]: bad.id,
    [Header.eventType]: bad.type,
    [Header.eventVersion]: '1',
  });
  await settle(0);
  const deadline = Date.now() + 20_000;
  while (saga.deadLetters().length === 0 && Date.now() < deadline) await settle(100);
  const [letter] = saga.deadLetters();
  assert.ok(letter, 'dead-lettered');
  assert.match(letter.headers[Header.dlqReason] ?? '', /card/);
  assert.equal((await ledgerOf(payments, orderId)).operations.length, 0);
  assert.equal(saga.outcomes(orderId).length, 0);
});

test('card numbers appear nowhere: not in the database, the events or the logs', async () => {
  const rows = await payments.db.primary.$queryRawUnsafe<{ r: string }[]>(
    `SELECT row_to_json(t)::text AS r FROM (
         SELECT * FROM payments) t
       UNION ALL SELECT row_to_json(o)::text FROM payment_operations o
       UNION ALL SELECT envelope::text FROM souk_outbox`,
  );
  const dump = rows.map((row) => row.r).join('\n');
  // The dead-letter topic holds the broken command above as it was sent (with a number in it).
  const published = JSON.stringify(saga.received.filter((r) => r.topic === s.topic('payments.events')));
  const logs = payments.rawLogs.join('\n');
  for (const card of [...Object.values(TEST_CARDS), '5555 5555 5555 4444']) {
    const digits = card.replace(/ /g, '');
    for (const [where, text] of [
      ['database', dump],
      ['events', published],
      ['logs', logs],
    ] as const) {
      assert.ok(!text.includes(digits), `${where} holds ${card}`);
    }
  }
  assert.ok(dump.includes('"card_last4":"4242"'), 'the last four digits are kept');
});

test('the counters count each result once', async () => {
  const text = await payments.service.metrics.registry.metrics();
  const value = (line: string) => {
    const match = new RegExp(`^${line} (\\S+)$`, 'm').exec(text);
    assert.ok(
      match,
      `${line} in\n${text
        .split('\n')
        .filter((l) => l.includes('souk_payments'))
        .join('\n')}`,
    );
    return Number(match[1]);
  };
  assert.equal(value('souk_payments_authorizations_total\\{result="approved",service="payments"\\}'), 3);
  assert.equal(value('souk_payments_authorizations_total\\{result="declined",service="payments"\\}'), 2);
  assert.equal(value('souk_payments_authorizations_total\\{result="failed",service="payments"\\}'), 3);
  assert.equal(
    value(
      'souk_payments_provider_calls_total\\{operation="authorize",result="timeout",service="payments"\\}',
    ),
    2,
  );
});

test.after(async () => {
  await saga.stop();
  await payments.stop();
  await s.close();
});

test.run();
