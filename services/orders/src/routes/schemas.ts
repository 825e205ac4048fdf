import { CARD_TOKEN_PATTERN } from '@souk/kit';
import { z } from 'zod';
import { SAGA_STATES } from '../domain/saga.ts';

export const PlaceOrderBody = z.strictObject({
  lines: z
    .array(
      z.strictObject({
        itemId: z.uuid(),
        quantity: z.int().min(1, 'at least 1').max(1000),
      }),
    )
    .min(1, 'an order has at least one line')
    .max(100),
  payment: z.union([
    z.strictObject({ cardNumber: z.string().min(1).max(40) }),
    z.strictObject({
      cardToken: z.string().regex(CARD_TOKEN_PATTERN, 'a card token (tok_…)'),
      last4: z.string().regex(/^\d{4}$/, 'the last four digits'),
    }),
  ]),
  shippingNote: z.string().max(500).optional(),
});

const HistoryEntry = z.object({
  step: z
    .string()
    .describe(
      'order, reserve_stock, authorize_payment, capture_payment, void_payment, refund_payment, release_stock, cancel',
    ),
  outcome: z.string(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  at: z.string(),
});

export const OrderBody = z.object({
  id: z.uuid(),
  userId: z.uuid(),
  status: z.enum(['PENDING', 'CANCELLING', 'CONFIRMED', 'CANCELLED']),
  cancelReason: z.string().nullable(),
  lines: z.array(
    z.object({ itemId: z.uuid(), title: z.string(), quantity: z.int(), unitPriceCents: z.int() }),
  ),
  totalCents: z.int().describe('in minor units of `currency`'),
  currency: z.string(),
  payment: z.object({ last4: z.string() }),
  shippingNote: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
  saga: z.object({
    state: z.enum(SAGA_STATES),
    stepAttempts: z.int(),
    deadlineAt: z.string().nullable().describe('when the current step times out'),
    history: z.array(HistoryEntry),
  }),
});

export const OrderPage = z.object({ orders: z.array(OrderBody), nextCursor: z.string().nullable() });

export const OrderParams = z.object({ id: z.uuid() });

export const ListQuery = z.object({
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  userId: z.uuid().optional().describe('admins only: the orders of this user'),
});
