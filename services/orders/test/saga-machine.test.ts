import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { advance, type Saga, type SagaInput, type SagaTimings, startSaga } from '../src/domain/saga.ts';

const timings: SagaTimings = {
  reservationTimeoutMs: 1_000,
  paymentTimeoutMs: 2_000,
  captureTimeoutMs: 3_000,
  compensationTimeoutMs: 4_000,
  compensationAttempts: 2,
  reservationMarginMs: 500,
};
const now = new Date('2026-11-22T00:00:00Z');
const fresh = (): Saga =>
  startSaga(
    {
      orderId: '0195f1c2-7a3b-7c00-8000-000000000001',
      userId: '0195f1c2-7a3b-7c00-8000-000000000002',
      totalCents: 1_000,
      currency: 'EUR',
      card: { token: `tok_${'a'.repeat(32)}`, last4: '4242' },
    },
    now,
    timings,
  );
const paymentId = '0195f1c2-7a3b-7c00-8000-000000000003';

/** Runs inputs in order; each may be a function of the saga so far (for step ids). */
function run(saga: Saga, ...inputs: (SagaInput | ((s: Saga) => SagaInput))[]) {
  const events: string[] = [];
  const history: string[] = [];
  let status: string | undefined;
  for (const input of inputs) {
    const d = advance(saga, typeof input === 'function' ? input(saga) : input, now, timings);
    saga = d.saga;
    events.push(...d.events.map((e) => e.type));
    history.push(...d.history.map((h) => `${h.step}:${h.outcome}`));
    status = d.status ?? status;
  }
  return { saga, events, history, status };
}

const reserved: SagaInput = {
  kind: 'StockReserved',
  reservationId: '0195f1c2-7a3b-7c00-8000-000000000004',
  expiresAt: new Date(now.getTime() + 60_000).toISOString(),
};
const authorized = (s: Saga): SagaInput => ({ kind: 'PaymentAuthorized', stepId: s.stepId!, paymentId });
const deadline = (s: Saga): SagaInput => ({ kind: 'Deadline', stepId: s.stepId! });

test('a new saga reserves stock under a deadline', () => {
  const s = fresh();
  assert.is(s.state, 'RESERVING_STOCK');
  assert.is(s.deadlineAt?.getTime(), now.getTime() + 1_000);
});

test('the capture deadline sends the same capture step again; it never compensates a held payment', () => {
  const before = run(fresh(), reserved, authorized);
  const stepId = before.saga.stepId;
  const after = run(before.saga, deadline, deadline);
  assert.is(after.saga.state, 'CAPTURING_PAYMENT');
  assert.is(after.saga.stepId, stepId);
  assert.is(after.saga.stepAttempts, 3);
  assert.equal(after.events, ['PaymentCaptureRequested', 'PaymentCaptureRequested']);
});

test('a cancel while capturing refunds once the capture lands, then releases the stock', () => {
  const r = run(
    fresh(),
    reserved,
    authorized,
    { kind: 'Cancel' },
    (s) => ({ kind: 'PaymentCaptured', stepId: s.stepId! }),
    (s) => ({ kind: 'PaymentRefunded', stepId: s.stepId!, amountCents: 1_000 }),
    { kind: 'StockReleased', reason: 'order_cancelled' },
  );
  assert.is(r.status, 'CANCELLED');
  assert.equal(r.events, [
    'PaymentRequested',
    'PaymentCaptureRequested',
    'PaymentRefundRequested',
    'OrderCancelled',
  ]);
  assert.not.ok(r.events.includes('OrderConfirmed'));
});

test('a capture landing within the margin of the reservation end is refunded, never confirmed', () => {
  const capturing = run(fresh(), reserved, authorized).saga;
  const late = new Date(now.getTime() + 60_000 - 400);
  const d = advance(capturing, { kind: 'PaymentCaptured', stepId: capturing.stepId! }, late, timings);
  assert.is(d.saga.state, 'REFUNDING_PAYMENT');
  assert.is(d.saga.cancelReason, 'reservation_timeout');
  assert.equal(
    d.events.map((e) => e.type),
    ['PaymentRefundRequested'],
  );
  const inTime = advance(capturing, { kind: 'PaymentCaptured', stepId: capturing.stepId! }, now, timings);
  assert.is(inTime.saga.state, 'CONFIRMED');
});

test('a free order cancelled while capturing needs no refund', () => {
  const r = run({ ...fresh(), totalCents: 0 }, reserved, authorized, { kind: 'Cancel' }, (s) => ({
    kind: 'PaymentCaptured',
    stepId: s.stepId!,
  }));
  assert.is(r.saga.state, 'RELEASING_STOCK');
  assert.equal(r.history.slice(-2), ['capture_payment:captured', 'refund_payment:nothing_captured']);
  assert.not.ok(r.events.includes('PaymentRefundRequested'));
});

test('outcomes of an earlier step are ignored', () => {
  const r = run(fresh(), reserved, deadline, {
    kind: 'PaymentAuthorized',
    stepId: '0195f1c2-7a3b-7c00-8000-0000000000ff',
    paymentId,
  });
  assert.is(r.saga.state, 'VOIDING_PAYMENT');
  assert.equal(r.events, ['PaymentRequested', 'PaymentVoidRequested']);
});

test('an unanswered void is sent again, then given up after its attempts, and the saga still ends', () => {
  const r = run(fresh(), reserved, deadline, deadline, deadline, deadline);
  assert.equal(r.history.slice(-4), [
    'void_payment:retried',
    'void_payment:unconfirmed',
    'release_stock:unconfirmed',
    'order:CANCELLED',
  ]);
  assert.is(r.saga.state, 'CANCELLED');
  assert.is(r.saga.deadlineAt, null);
});

test('a reservation that expires during authorization voids the payment (reason reservation_timeout)', () => {
  const r = run(fresh(), reserved, { kind: 'StockReleased', reason: 'expired' }, (s) => ({
    kind: 'PaymentVoided',
    stepId: s.stepId!,
    amountCents: 1_000,
  }));
  assert.is(r.saga.cancelReason, 'reservation_timeout');
  assert.is(r.status, 'CANCELLED');
});

test('payment steps end before the reservation expires', () => {
  const r = run(fresh(), { ...reserved, expiresAt: new Date(now.getTime() + 1_200).toISOString() });
  assert.is(r.saga.deadlineAt?.getTime(), now.getTime() + 700);
});

test('a cancel while reserving releases through OrderCancelled and waits for the answer', () => {
  const r = run(fresh(), { kind: 'Cancel' });
  assert.is(r.saga.state, 'RELEASING_STOCK');
  assert.equal(r.events, ['OrderCancelled']);
  const late = run(r.saga, reserved, { kind: 'StockReleased', reason: 'order_cancelled' });
  assert.is(late.status, 'CANCELLED');
  assert.equal(late.events, []);
});

test('cancelling a finished order is refused; cancelling twice is one cancellation', () => {
  const confirmed = run(fresh(), reserved, authorized, (s) => ({
    kind: 'PaymentCaptured',
    stepId: s.stepId!,
  }));
  assert.is(confirmed.status, 'CONFIRMED');
  assert.is(advance(confirmed.saga, { kind: 'Cancel' }, now, timings).accepted, false);
  const once = run(fresh(), reserved, { kind: 'Cancel' });
  const twice = advance(once.saga, { kind: 'Cancel' }, now, timings);
  assert.is(twice.accepted, true);
  assert.equal(twice.events, []);
});

test.run();
