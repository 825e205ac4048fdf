import { z } from 'zod';
import { CARD_TOKEN_PATTERN } from '../../payments/card-token.ts';
import { defineAggregate, defineEvent } from './contract.ts';
import { cents, currency, id, orderLine } from './fields.ts';

/** The orders service orchestrates the saga: its commands to other services are events here too. */
export const orders = defineAggregate('Order', 'orders.events');

export const OrderPlaced = defineEvent({
  aggregate: orders,
  type: 'OrderPlaced',
  version: 1,
  data: z.object({
    orderId: id,
    userId: id,
    lines: z.array(orderLine).min(1),
    totalCents: cents,
    currency,
  }),
});

/**
 * The saga's payment commands. Each carries the saga step's id: payments applies a step once and
 * answers a step it already applied with the same outcome, so the saga may send a step again
 * (after its own restart, say) without moving money twice. The order id is the key, so the steps of
 * one order reach payments in the order they were sent.
 */
const paymentStep = { orderId: id, stepId: id };

/** Asks payments to authorize (hold) the order's amount, once its stock is reserved. */
export const PaymentRequested = defineEvent({
  aggregate: orders,
  type: 'PaymentRequested',
  version: 1,
  data: z.object({
    ...paymentStep,
    userId: id,
    amountCents: cents,
    currency,
    /** The card as the edge tokenized it (`tokenizeCard` in the kit): never the number itself. */
    card: z.object({ token: z.string().regex(CARD_TOKEN_PATTERN), last4: z.string().regex(/^\d{4}$/) }),
  }),
});

/** Captures the authorization of a confirmed order: at most the authorized amount, and only once. */
export const PaymentCaptureRequested = defineEvent({
  aggregate: orders,
  type: 'PaymentCaptureRequested',
  version: 1,
  data: z.object({ ...paymentStep, paymentId: id, amountCents: cents, currency }),
});

/**
 * Compensation: releases whatever the order's authorization still holds. Valid at any point before
 * capture, also when the authorization failed or never happened (nothing to release), so the saga
 * may send it after a timed-out step without knowing the payment id. Refused once captured.
 */
export const PaymentVoidRequested = defineEvent({
  aggregate: orders,
  type: 'PaymentVoidRequested',
  version: 1,
  data: z.object({
    ...paymentStep,
    paymentId: id.optional(),
    reason: z.enum(['payment_timeout', 'order_cancelled', 'reservation_timeout']),
  }),
});

/** Compensation after capture: gives back up to what was captured and not yet refunded. */
export const PaymentRefundRequested = defineEvent({
  aggregate: orders,
  type: 'PaymentRefundRequested',
  version: 1,
  data: z.object({
    ...paymentStep,
    paymentId: id,
    amountCents: z.int().positive(),
    currency,
    reason: z.enum(['customer_requested', 'order_cancelled']),
  }),
});

export const OrderConfirmed = defineEvent({
  aggregate: orders,
  type: 'OrderConfirmed',
  version: 1,
  data: z.object({ orderId: id, userId: id, paymentId: id, totalCents: cents, currency }),
});

/** Also the signal for inventory to release a reservation the order still holds. */
export const OrderCancelled = defineEvent({
  aggregate: orders,
  type: 'OrderCancelled',
  version: 1,
  data: z.object({
    orderId: id,
    userId: id,
    reason: z.enum([
      'stock_rejected',
      'payment_declined',
      'payment_timeout',
      'reservation_timeout',
      'customer_requested',
    ]),
  }),
});

export const orderEvents = [
  OrderPlaced,
  PaymentRequested,
  PaymentCaptureRequested,
  PaymentVoidRequested,
  PaymentRefundRequested,
  OrderConfirmed,
  OrderCancelled,
] as const;
