import { z } from 'zod';
import { defineAggregate, defineEvent } from './contract.ts';
import { cents, currency, id } from './fields.ts';

/**
 * Outcomes of the saga's payment commands (see orders.ts). Keyed by order id, like the commands,
 * so the saga reads one order's outcomes in order. Every outcome names the step it answers; a
 * step sent again is answered with the same data (under a new event id).
 */
export const payments = defineAggregate('Payment', 'payments.events');

const step = { orderId: id, stepId: id };

/** Funds are held for the order, to be captured or voided. */
export const PaymentAuthorized = defineEvent({
  aggregate: payments,
  type: 'PaymentAuthorized',
  version: 1,
  data: z.object({
    ...step,
    paymentId: id,
    amountCents: cents,
    currency,
    last4: z.string().regex(/^\d{4}$/),
  }),
});

/** The card was refused: a business answer, final for this card. */
export const PaymentDeclined = defineEvent({
  aggregate: payments,
  type: 'PaymentDeclined',
  version: 1,
  data: z.object({ ...step, paymentId: id, reason: z.enum(['card_declined', 'insufficient_funds']) }),
});

/**
 * The provider gave no answer: it timed out (not retried, since a timed-out authorization may or
 * may not have happened) or kept failing after the retries. Nothing is held on Souk's side.
 */
export const PaymentFailed = defineEvent({
  aggregate: payments,
  type: 'PaymentFailed',
  version: 1,
  data: z.object({
    ...step,
    paymentId: id,
    reason: z.enum(['provider_timeout', 'provider_error']),
    attempts: z.int().positive(),
  }),
});

export const PaymentCaptured = defineEvent({
  aggregate: payments,
  type: 'PaymentCaptured',
  version: 1,
  data: z.object({ ...step, paymentId: id, amountCents: cents, currency }),
});

/**
 * Nothing is held for the order any more. `amountCents` is what this void released: 0 when the
 * authorization had failed, was voided before, or never happened (then `paymentId` and `currency`
 * are null).
 */
export const PaymentVoided = defineEvent({
  aggregate: payments,
  type: 'PaymentVoided',
  version: 1,
  data: z.object({ ...step, paymentId: id.nullable(), amountCents: cents, currency: currency.nullable() }),
});

export const PaymentRefunded = defineEvent({
  aggregate: payments,
  type: 'PaymentRefunded',
  version: 1,
  data: z.object({
    ...step,
    paymentId: id,
    amountCents: z.int().positive(),
    currency,
    /** Everything refunded on this payment so far, this refund included. */
    refundedTotalCents: cents,
    reason: z.enum(['customer_requested', 'order_cancelled']),
  }),
});

/** A command that would break the ledger's rules; nothing moved. */
export const PaymentCommandRejected = defineEvent({
  aggregate: payments,
  type: 'PaymentCommandRejected',
  version: 1,
  data: z.object({
    ...step,
    paymentId: id.nullable(),
    command: z.enum(['authorize', 'capture', 'void', 'refund']),
    reason: z.enum([
      /** authorize: the order already has a payment, from another step. */
      'duplicate_payment',
      /** capture, refund: the order has no payment. */
      'no_payment',
      /** the command names another payment than the order's. */
      'payment_mismatch',
      'currency_mismatch',
      /** capture: the payment holds nothing (declined, failed or voided). */
      'not_authorized',
      /** capture: captured already, by another step. */
      'already_captured',
      'exceeds_authorization',
      /** void: the payment was captured; refund it instead. */
      'captured',
      /** refund: nothing was captured. */
      'not_captured',
      'exceeds_captured',
    ]),
  }),
});

export const paymentEvents = [
  PaymentAuthorized,
  PaymentDeclined,
  PaymentFailed,
  PaymentCaptured,
  PaymentVoided,
  PaymentRefunded,
  PaymentCommandRejected,
] as const;
