import { z } from 'zod';
import { defineAggregate, defineEvent } from './contract.ts';
import { cents, currency, id } from './fields.ts';

export const payments = defineAggregate('Payment', 'payments.events');

export const PaymentAuthorized = defineEvent({
  aggregate: payments,
  type: 'PaymentAuthorized',
  version: 1,
  data: z.object({ paymentId: id, orderId: id, amountCents: cents, currency }),
});

export const PaymentDeclined = defineEvent({
  aggregate: payments,
  type: 'PaymentDeclined',
  version: 1,
  data: z.object({
    paymentId: id,
    orderId: id,
    reason: z.enum(['card_declined', 'insufficient_funds', 'provider_error']),
  }),
});

export const PaymentCaptured = defineEvent({
  aggregate: payments,
  type: 'PaymentCaptured',
  version: 1,
  data: z.object({ paymentId: id, orderId: id, amountCents: cents, currency }),
});

export const PaymentRefunded = defineEvent({
  aggregate: payments,
  type: 'PaymentRefunded',
  version: 1,
  data: z.object({ paymentId: id, orderId: id, amountCents: cents, currency, reason: z.string().max(500) }),
});

export const paymentEvents = [PaymentAuthorized, PaymentDeclined, PaymentCaptured, PaymentRefunded] as const;
