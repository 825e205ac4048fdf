import { z } from 'zod';
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

/** Asks payments to authorize the order's amount, once its stock is reserved. */
export const PaymentRequested = defineEvent({
  aggregate: orders,
  type: 'PaymentRequested',
  version: 1,
  data: z.object({
    orderId: id,
    userId: id,
    amountCents: cents,
    currency,
    /** A token of the provider; the simulated provider's test tokens decline or fail deterministically. */
    paymentMethod: z.string().min(1).max(200),
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

export const orderEvents = [OrderPlaced, PaymentRequested, OrderConfirmed, OrderCancelled] as const;
