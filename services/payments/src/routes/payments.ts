import { defineRoute, type Middleware, notFound, type Route } from '@souk/kit';
import { z } from 'zod';
import type { PaymentsDb } from '../data/database.ts';
import { readOrderLedger } from '../data/payments.ts';
import { balances } from '../domain/ledger.ts';

const cents = z.int();
const account = z.enum(['customer', 'hold', 'merchant']);

const OrderPayments = z.object({
  orderId: z.uuid(),
  payment: z
    .object({
      id: z.uuid(),
      status: z.enum(['authorized', 'declined', 'failed', 'voided', 'captured']),
      currency: z.string(),
      requestedCents: cents,
      authorizedCents: cents,
      capturedCents: cents,
      refundedCents: cents,
      cardLast4: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .nullable(),
  operations: z.array(
    z.object({
      id: z.uuid(),
      stepId: z.uuid(),
      kind: z.enum(['authorize', 'capture', 'void', 'refund']),
      result: z.enum(['succeeded', 'declined', 'failed', 'rejected']),
      reason: z.string().nullable(),
      amountCents: cents,
      attempts: z.int(),
      outcomeType: z.string(),
      createdAt: z.string(),
    }),
  ),
  entries: z.array(
    z.object({
      id: z.int(),
      operationId: z.uuid(),
      account,
      amountCents: cents,
      currency: z.string(),
      createdAt: z.string(),
    }),
  ),
  balances: z.record(account, cents),
});

/** Read-only views for operators: payments has no public writes (the saga drives it). */
export function paymentRoutes(db: PaymentsDb, adminOnly: Middleware[]): Route[] {
  const getOrderPayments = defineRoute({
    method: 'GET',
    path: '/payments/:orderId',
    name: 'getOrderPayments',
    summary: "An order's payment, the saga steps applied to it and its ledger entries (admin)",
    description:
      'Read from the replica when there is one, so a step just applied may show a moment later. ' +
      'Balances are the sums of the entries per account: hold is what is still authorized, ' +
      'merchant what was captured and not refunded.',
    tags: ['payments'],
    params: z.object({ orderId: z.uuid() }),
    use: adminOnly,
    responses: {
      200: { description: 'The ledger of the order', body: OrderPayments },
      400: { description: 'The order id is not a UUID' },
      401: { description: 'No token, or a token that is invalid, expired or revoked' },
      403: { description: 'The token is not an admin' },
      404: { description: 'Nothing was recorded for this order' },
    },
    handler: async ({ params, reply }) => {
      const ledger = await readOrderLedger(db, params.orderId);
      if (!ledger.payment && ledger.operations.length === 0) throw notFound('no payment for this order');
      const p = ledger.payment;
      return reply(200, {
        orderId: params.orderId,
        payment: p
          ? {
              id: p.id,
              status: p.status,
              currency: p.currency,
              requestedCents: p.requestedCents,
              authorizedCents: p.authorizedCents,
              capturedCents: p.capturedCents,
              refundedCents: p.refundedCents,
              cardLast4: p.cardLast4,
              createdAt: p.createdAt.toISOString(),
              updatedAt: p.updatedAt.toISOString(),
            }
          : null,
        operations: ledger.operations.map((o) => ({
          id: o.id,
          stepId: o.stepId,
          kind: o.kind,
          result: o.result,
          reason: o.reason,
          amountCents: o.amountCents,
          attempts: o.attempts,
          outcomeType: o.outcomeType,
          createdAt: o.createdAt.toISOString(),
        })),
        entries: ledger.entries.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })),
        balances: balances(ledger.entries),
      });
    },
  });
  return [getOrderPayments];
}
