import {
  type EventEnvelope,
  OrderCancelled,
  OrderConfirmed,
  PaymentCaptureRequested,
  PaymentRefundRequested,
  PaymentRequested,
  PaymentVoidRequested,
  uuidv7,
} from '@souk/kit/events/index';

/**
 * The order saga as a pure state machine: `advance(saga, input)` says what the saga becomes, what
 * goes into its history and which events (commands to inventory and payments, outcomes for
 * everyone) leave with it. The caller persists all three in one transaction with the outbox.
 *
 *   RESERVING_STOCK --StockReserved--> AUTHORIZING_PAYMENT --PaymentAuthorized--> CAPTURING_PAYMENT
 *     --PaymentCaptured--> CONFIRMED
 *   StockRejected --> CANCELLED
 *   PaymentDeclined/Failed --> RELEASING_STOCK --> CANCELLED
 *   authorization deadline or cancel --> VOIDING_PAYMENT --> RELEASING_STOCK --> CANCELLED
 *   cancel (or lost reservation) while capturing --> REFUNDING_PAYMENT once captured --> RELEASING_STOCK
 *
 * Compensations run in reverse order (payment first, then stock) and are idempotent: payments
 * applies a step id once, inventory releases an order's reservation once, so a command sent
 * again after a deadline or a restart moves nothing twice. Stock is released by OrderCancelled,
 * which inventory's contract names as the release signal.
 */
export const SAGA_STATES = [
  'RESERVING_STOCK',
  'AUTHORIZING_PAYMENT',
  'CAPTURING_PAYMENT',
  'VOIDING_PAYMENT',
  'REFUNDING_PAYMENT',
  'RELEASING_STOCK',
  'CONFIRMED',
  'CANCELLED',
] as const;
export type SagaState = (typeof SAGA_STATES)[number];

export type OrderStatus = 'PENDING' | 'CANCELLING' | 'CONFIRMED' | 'CANCELLED';

/** What the saga knows of the order's stock: asked for, held, or nothing held. */
export type StockState = 'requested' | 'held' | 'none';

export type CancelReason =
  | 'stock_rejected'
  | 'payment_declined'
  | 'payment_timeout'
  | 'reservation_timeout'
  | 'customer_requested';

export interface Saga {
  orderId: string;
  userId: string;
  state: SagaState;
  stepId: string | null;
  stepAttempts: number;
  deadlineAt: Date | null;
  stock: StockState;
  reservationId: string | null;
  reservationUntil: Date | null;
  paymentId: string | null;
  /** Set once the saga is headed for CANCELLED (or will be, once a capture in flight lands). */
  cancelReason: CancelReason | null;
  totalCents: number;
  currency: string;
  card: { token: string; last4: string };
}

export type SagaInput =
  | { kind: 'StockReserved'; reservationId: string; expiresAt: string }
  | { kind: 'StockRejected'; reason: string; itemIds: string[] }
  | { kind: 'StockReleased'; reason: string }
  | { kind: 'PaymentAuthorized'; stepId: string; paymentId: string }
  | { kind: 'PaymentDeclined'; stepId: string; reason: string }
  | { kind: 'PaymentFailed'; stepId: string; reason: string }
  | { kind: 'PaymentCaptured'; stepId: string }
  | { kind: 'PaymentVoided'; stepId: string; amountCents: number }
  | { kind: 'PaymentRefunded'; stepId: string; amountCents: number }
  | { kind: 'PaymentCommandRejected'; stepId: string; command: string; reason: string }
  | { kind: 'Deadline'; stepId: string }
  | { kind: 'Cancel' };

export interface HistoryEntry {
  step: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface Decision {
  saga: Saga;
  history: HistoryEntry[];
  events: EventEnvelope[];
  /** The order's new status when it changed. */
  status?: OrderStatus;
  /** For a cancel request: whether it was accepted. */
  accepted?: boolean;
}

export interface SagaTimings {
  reservationTimeoutMs: number;
  paymentTimeoutMs: number;
  captureTimeoutMs: number;
  compensationTimeoutMs: number;
  /** Compensation commands sent again after their deadline before the saga moves on. */
  compensationAttempts: number;
  /** The payment steps must end this long before the reservation expires. */
  reservationMarginMs: number;
}

export const TERMINAL: ReadonlySet<SagaState> = new Set(['CONFIRMED', 'CANCELLED']);

/** The saga of a newly placed order, and its history's first entries. */
export function startSaga(
  saga: Omit<
    Saga,
    | 'state'
    | 'stepId'
    | 'stepAttempts'
    | 'deadlineAt'
    | 'stock'
    | 'reservationId'
    | 'reservationUntil'
    | 'paymentId'
    | 'cancelReason'
  >,
  now: Date,
  t: SagaTimings,
): Saga {
  return {
    ...saga,
    state: 'RESERVING_STOCK',
    stepId: uuidv7(),
    stepAttempts: 1,
    deadlineAt: new Date(now.getTime() + t.reservationTimeoutMs),
    stock: 'requested',
    reservationId: null,
    reservationUntil: null,
    paymentId: null,
    cancelReason: null,
  };
}

export function advance(saga: Saga, input: SagaInput, now: Date, t: SagaTimings): Decision {
  const d: Decision = { saga: { ...saga }, history: [], events: [] };
  const s = d.saga;
  const record = (step: string, outcome: string, detail?: Record<string, unknown>) => {
    d.history.push(detail ? { step, outcome, detail } : { step, outcome });
  };
  const at = (ms: number) => new Date(now.getTime() + ms);
  const newStep = (state: SagaState, deadline: Date) => {
    s.state = state;
    s.stepId = uuidv7();
    s.stepAttempts = 1;
    s.deadlineAt = deadline;
  };
  const paymentDeadline = (ms: number) => {
    const deadline = at(ms);
    if (s.reservationUntil) {
      const latest = new Date(s.reservationUntil.getTime() - t.reservationMarginMs);
      if (latest < deadline) return latest > now ? latest : now;
    }
    return deadline;
  };
  const cancelled = () => {
    s.state = 'CANCELLED';
    s.stepId = null;
    s.deadlineAt = null;
    d.status = 'CANCELLED';
    record('order', 'CANCELLED', { reason: s.cancelReason });
  };
  /** Last compensation: OrderCancelled tells inventory to release; wait while stock may be held. */
  const releaseStock = () => {
    d.events.push(
      OrderCancelled.create(s.orderId, {
        orderId: s.orderId,
        userId: s.userId,
        reason: s.cancelReason ?? 'customer_requested',
      }),
    );
    if (s.stock === 'none') {
      record('release_stock', 'nothing_held');
      cancelled();
      return;
    }
    newStep('RELEASING_STOCK', at(t.compensationTimeoutMs));
    d.status = 'CANCELLING';
  };
  const voidPayment = (reason: 'payment_timeout' | 'order_cancelled' | 'reservation_timeout') => {
    newStep('VOIDING_PAYMENT', at(t.compensationTimeoutMs));
    d.status = 'CANCELLING';
    d.events.push(
      PaymentVoidRequested.create(s.orderId, {
        orderId: s.orderId,
        stepId: s.stepId!,
        ...(s.paymentId ? { paymentId: s.paymentId } : {}),
        reason,
      }),
    );
  };
  const refundPayment = () => {
    if (s.totalCents === 0) {
      // Nothing was captured that could be given back (a refund is of a positive amount).
      record('refund_payment', 'nothing_captured');
      releaseStock();
      return;
    }
    newStep('REFUNDING_PAYMENT', at(t.compensationTimeoutMs));
    d.status = 'CANCELLING';
    d.events.push(refundCommand(s));
  };
  const sameStep = (stepId: string) => stepId === s.stepId;

  switch (input.kind) {
    case 'Cancel': {
      if (TERMINAL.has(s.state) || s.cancelReason) {
        // Cancelling twice is one cancellation; a finished order cannot be cancelled.
        d.accepted = !TERMINAL.has(s.state);
        return d;
      }
      d.accepted = true;
      s.cancelReason = 'customer_requested';
      record('cancel', 'requested');
      if (s.state === 'RESERVING_STOCK') {
        record('reserve_stock', 'abandoned');
        releaseStock();
      } else if (s.state === 'AUTHORIZING_PAYMENT') {
        record('authorize_payment', 'abandoned');
        voidPayment('order_cancelled');
      } else if (s.state === 'CAPTURING_PAYMENT') {
        // The capture may already be done; the refund follows its outcome.
        d.status = 'CANCELLING';
      }
      return d;
    }
    case 'Deadline': {
      if (!sameStep(input.stepId) || TERMINAL.has(s.state)) return d;
      switch (s.state) {
        case 'RESERVING_STOCK':
          record('reserve_stock', 'timed_out');
          s.cancelReason ??= 'reservation_timeout';
          releaseStock();
          return d;
        case 'AUTHORIZING_PAYMENT':
          record('authorize_payment', 'timed_out');
          s.cancelReason ??= 'payment_timeout';
          voidPayment('payment_timeout');
          return d;
        case 'CAPTURING_PAYMENT':
          // The authorization holds the money: capturing again under the same step id is safe.
          record('capture_payment', 'retried', { attempt: s.stepAttempts + 1 });
          s.stepAttempts++;
          s.deadlineAt = at(t.captureTimeoutMs);
          d.events.push(captureCommand(s));
          return d;
        case 'VOIDING_PAYMENT':
        case 'REFUNDING_PAYMENT': {
          const step = s.state === 'VOIDING_PAYMENT' ? 'void_payment' : 'refund_payment';
          if (s.stepAttempts >= t.compensationAttempts) {
            record(step, 'unconfirmed', { attempts: s.stepAttempts });
            releaseStock();
            return d;
          }
          record(step, 'retried', { attempt: s.stepAttempts + 1 });
          s.stepAttempts++;
          s.deadlineAt = at(t.compensationTimeoutMs);
          d.events.push(
            s.state === 'VOIDING_PAYMENT'
              ? PaymentVoidRequested.create(s.orderId, {
                  orderId: s.orderId,
                  stepId: s.stepId!,
                  ...(s.paymentId ? { paymentId: s.paymentId } : {}),
                  reason: voidReason(s.cancelReason),
                })
              : refundCommand(s),
          );
          return d;
        }
        case 'RELEASING_STOCK':
          // OrderCancelled is in the outbox and inventory's release is idempotent: it will happen.
          record('release_stock', 'unconfirmed');
          cancelled();
          return d;
      }
      return d;
    }
    case 'StockReserved': {
      if (s.state === 'RESERVING_STOCK') {
        s.stock = 'held';
        s.reservationId = input.reservationId;
        s.reservationUntil = new Date(input.expiresAt);
        record('reserve_stock', 'reserved', { reservationId: input.reservationId });
        newStep('AUTHORIZING_PAYMENT', paymentDeadline(t.paymentTimeoutMs));
        d.events.push(
          PaymentRequested.create(s.orderId, {
            orderId: s.orderId,
            stepId: s.stepId!,
            userId: s.userId,
            amountCents: s.totalCents,
            currency: s.currency,
            card: s.card,
          }),
        );
      } else if (s.stock === 'requested') {
        // Reserved after the saga gave up on it: the OrderCancelled already sent releases it.
        s.stock = 'held';
        s.reservationId = input.reservationId;
        record('reserve_stock', 'reserved_late');
      }
      return d;
    }
    case 'StockRejected': {
      if (s.stock !== 'requested') return d;
      s.stock = 'none';
      record('reserve_stock', 'rejected', { reason: input.reason, itemIds: input.itemIds });
      if (s.state === 'RESERVING_STOCK') {
        s.cancelReason = 'stock_rejected';
        releaseStock();
      } else if (s.state === 'RELEASING_STOCK') {
        cancelled();
      }
      return d;
    }
    case 'StockReleased': {
      if (s.stock === 'none') return d;
      s.stock = 'none';
      record('release_stock', input.reason === 'expired' ? 'expired' : 'released');
      if (s.state === 'RELEASING_STOCK') {
        cancelled();
      } else if (s.state === 'AUTHORIZING_PAYMENT') {
        s.cancelReason = 'reservation_timeout';
        record('authorize_payment', 'abandoned');
        voidPayment('reservation_timeout');
      } else if (s.state === 'CAPTURING_PAYMENT') {
        // Too late to stop the capture; it is refunded once it lands.
        s.cancelReason ??= 'reservation_timeout';
        d.status = 'CANCELLING';
      }
      return d;
    }
    case 'PaymentAuthorized': {
      if (!sameStep(input.stepId) || s.state !== 'AUTHORIZING_PAYMENT') return d;
      s.paymentId = input.paymentId;
      record('authorize_payment', 'authorized', { paymentId: input.paymentId });
      newStep('CAPTURING_PAYMENT', paymentDeadline(t.captureTimeoutMs));
      d.events.push(captureCommand(s));
      return d;
    }
    case 'PaymentDeclined':
    case 'PaymentFailed': {
      if (!sameStep(input.stepId) || s.state !== 'AUTHORIZING_PAYMENT') return d;
      record('authorize_payment', input.kind === 'PaymentDeclined' ? 'declined' : 'failed', {
        reason: input.reason,
      });
      s.cancelReason = input.reason === 'provider_timeout' ? 'payment_timeout' : 'payment_declined';
      // Nothing is held at payments after a decline or a failure: straight to the stock.
      releaseStock();
      return d;
    }
    case 'PaymentCaptured': {
      if (!sameStep(input.stepId) || s.state !== 'CAPTURING_PAYMENT') return d;
      record('capture_payment', 'captured');
      if (
        !s.cancelReason &&
        s.reservationUntil &&
        now >= new Date(s.reservationUntil.getTime() - t.reservationMarginMs)
      ) {
        // Inventory lets the reservation go on its own clock: an OrderConfirmed sent this late may
        // arrive after that, confirming stock nobody holds any more. Refunded instead.
        s.cancelReason = 'reservation_timeout';
      }
      if (s.cancelReason) {
        refundPayment();
        return d;
      }
      s.state = 'CONFIRMED';
      s.stepId = null;
      s.deadlineAt = null;
      d.status = 'CONFIRMED';
      record('order', 'CONFIRMED');
      d.events.push(
        OrderConfirmed.create(s.orderId, {
          orderId: s.orderId,
          userId: s.userId,
          paymentId: s.paymentId!,
          totalCents: s.totalCents,
          currency: s.currency,
        }),
      );
      return d;
    }
    case 'PaymentVoided': {
      if (!sameStep(input.stepId) || s.state !== 'VOIDING_PAYMENT') return d;
      record('void_payment', 'voided', { amountCents: input.amountCents });
      releaseStock();
      return d;
    }
    case 'PaymentRefunded': {
      if (!sameStep(input.stepId) || s.state !== 'REFUNDING_PAYMENT') return d;
      record('refund_payment', 'refunded', { amountCents: input.amountCents });
      releaseStock();
      return d;
    }
    case 'PaymentCommandRejected': {
      if (!sameStep(input.stepId)) return d;
      const detail = { command: input.command, reason: input.reason };
      if (s.state === 'CAPTURING_PAYMENT') {
        // Nothing was captured: what the authorization holds is voided, then the stock released.
        record('capture_payment', 'rejected', detail);
        s.cancelReason ??= 'payment_declined';
        voidPayment(voidReason(s.cancelReason));
      } else if (s.state === 'AUTHORIZING_PAYMENT') {
        record('authorize_payment', 'rejected', detail);
        s.cancelReason ??= 'payment_declined';
        voidPayment(voidReason(s.cancelReason));
      } else if (s.state === 'VOIDING_PAYMENT' || s.state === 'REFUNDING_PAYMENT') {
        record(s.state === 'VOIDING_PAYMENT' ? 'void_payment' : 'refund_payment', 'rejected', detail);
        releaseStock();
      }
      return d;
    }
  }
}

function voidReason(
  reason: CancelReason | null,
): 'payment_timeout' | 'order_cancelled' | 'reservation_timeout' {
  if (reason === 'payment_timeout' || reason === 'reservation_timeout') return reason;
  return 'order_cancelled';
}

function captureCommand(s: Saga): EventEnvelope {
  return PaymentCaptureRequested.create(s.orderId, {
    orderId: s.orderId,
    stepId: s.stepId!,
    paymentId: s.paymentId!,
    amountCents: s.totalCents,
    currency: s.currency,
  });
}

function refundCommand(s: Saga): EventEnvelope {
  return PaymentRefundRequested.create(s.orderId, {
    orderId: s.orderId,
    stepId: s.stepId!,
    paymentId: s.paymentId!,
    amountCents: s.totalCents,
    currency: s.currency,
    reason: s.cancelReason === 'customer_requested' ? 'customer_requested' : 'order_cancelled',
  });
}

/** The order's status for a saga state. */
export function statusOf(state: SagaState, cancelReason: CancelReason | null): OrderStatus {
  if (state === 'CONFIRMED') return 'CONFIRMED';
  if (state === 'CANCELLED') return 'CANCELLED';
  if (state === 'VOIDING_PAYMENT' || state === 'REFUNDING_PAYMENT' || state === 'RELEASING_STOCK')
    return 'CANCELLING';
  return cancelReason ? 'CANCELLING' : 'PENDING';
}
