import {
  badRequest,
  defineRoute,
  forbidden,
  InvalidCardNumberError,
  type Middleware,
  Problem,
  type Route,
  tokenizeCard,
  unprocessable,
} from '@souk/kit';
import type { OrderRow } from '../data/orders.ts';
import type { Orders } from '../domain/orders.ts';
import { ListQuery, OrderBody, OrderPage, OrderParams, PlaceOrderBody } from './schemas.ts';

const problem = (description: string) => ({ description });

export function presentOrder(o: OrderRow) {
  return {
    id: o.id,
    userId: o.userId,
    status: o.status,
    cancelReason: o.cancelReason,
    lines: o.lines,
    totalCents: o.totalCents,
    currency: o.currency,
    payment: { last4: o.cardLast4 },
    shippingNote: o.shippingNote,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
    completedAt: o.completedAt?.toISOString() ?? null,
    saga: {
      state: o.sagaState,
      stepAttempts: o.stepAttempts,
      deadlineAt: o.deadlineAt?.toISOString() ?? null,
      history: o.history.map((h) => ({ ...h, at: h.at.toISOString() })),
    },
  };
}

function viewerOf(ctx: { state: { principal?: { sub: string; roles: string[] } } }) {
  const p = ctx.state.principal;
  if (!p)
    throw new Problem(401, { detail: 'bearer token required', headers: { 'WWW-Authenticate': 'Bearer' } });
  return { id: p.sub, admin: p.roles.includes('admin') };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** 400 naming the header when it is missing or malformed (checked before the body). */
const requireIdempotencyKey: Middleware = async (ctx, next) => {
  const key = ctx.get('Idempotency-Key');
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw badRequest(key ? 'Idempotency-Key is malformed' : 'Idempotency-Key header is required', [
      {
        in: 'headers',
        pointer: '/Idempotency-Key',
        field: 'Idempotency-Key',
        message: key ? '1 to 255 visible ASCII characters' : 'required: a unique key per order attempt',
      },
    ]);
  }
  await next();
};

interface Cursor {
  createdAt: Date;
  id: string;
}

const encodeCursor = (o: OrderRow) =>
  Buffer.from(JSON.stringify([o.createdAt.toISOString(), o.id])).toString('base64url');

function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw badRequest('invalid cursor', [
      { in: 'query', pointer: '/cursor', field: 'cursor', message: 'not a cursor this API returned' },
    ]);
  }
}

export interface OrderRouteOptions {
  orders: Orders;
  auth: Middleware;
  /** Whether this user wrote an order moments ago (read-your-writes: read the primary). */
  recentlyWrote: (userId: string) => Promise<boolean>;
  wrote: (userId: string) => Promise<void>;
}

export function orderRoutes({ orders, auth, recentlyWrote, wrote }: OrderRouteOptions): Route[] {
  const placeOrder = defineRoute({
    method: 'POST',
    path: '/orders',
    name: 'placeOrder',
    summary: 'Place an order (once per Idempotency-Key); its saga runs asynchronously',
    tags: ['orders'],
    security: ['bearer'],
    use: [auth, requireIdempotencyKey],
    body: PlaceOrderBody,
    responses: {
      201: { description: 'Placed: PENDING until the saga ends', body: OrderBody },
      400: problem('Idempotency-Key missing or malformed; `errors` names it'),
      401: problem('No valid token'),
      422: problem('Invalid body, unknown item (the line is named), or the key reused with another body'),
      503: problem('Inventory (prices) or token keys unavailable; no order was created'),
    },
    handler: async ({ body, ctx }) => {
      const viewer = viewerOf(ctx);
      let card: { token: string; last4: string };
      if ('cardNumber' in body.payment) {
        try {
          card = tokenizeCard(body.payment.cardNumber);
        } catch (error) {
          if (!(error instanceof InvalidCardNumberError)) throw error;
          throw unprocessable('invalid card number', [
            {
              in: 'body',
              pointer: '/payment/cardNumber',
              field: 'payment.cardNumber',
              message: error.message,
            },
          ]);
        }
      } else {
        card = { token: body.payment.cardToken, last4: body.payment.last4 };
      }
      const answer = await orders.place(
        {
          userId: viewer.id,
          idempotencyKey: ctx.get('Idempotency-Key'),
          lines: body.lines,
          card,
          shippingNote: body.shippingNote ?? null,
        },
        ctx.state.signal,
      );
      if (!answer.replayed) await wrote(viewer.id).catch(() => {});
      const order = answer.body as { id: string };
      return {
        status: answer.status as 201,
        body: answer.body as never,
        headers: {
          Location: `/orders/${order.id}`,
          ...(answer.replayed ? { 'Idempotent-Replayed': 'true' } : {}),
        },
      };
    },
  });

  const listOrders = defineRoute({
    method: 'GET',
    path: '/orders',
    name: 'listOrders',
    summary: "The caller's orders, newest first (admins: anyone's, or one user's)",
    tags: ['orders'],
    security: ['bearer'],
    use: [auth],
    query: ListQuery,
    responses: {
      200: { description: 'A page of orders', body: OrderPage },
      400: problem('A parameter is invalid; `errors` names it'),
      401: problem('No valid token'),
      403: problem('userId is for admins'),
    },
    handler: async ({ query, ctx, reply }) => {
      const viewer = viewerOf(ctx);
      if (query.userId && !viewer.admin && query.userId !== viewer.id)
        throw forbidden('only admins filter by user');
      const userId = viewer.admin ? query.userId : viewer.id;
      const fresh = await recentlyWrote(viewer.id).catch(() => true);
      const rows = await orders.list({
        userId,
        after: decodeCursor(query.cursor),
        limit: query.limit + 1,
        fresh,
      });
      const page = rows.slice(0, query.limit);
      const next = rows.length > query.limit ? encodeCursor(page.at(-1)!) : null;
      return reply(200, { orders: page.map(presentOrder), nextCursor: next });
    },
  });

  const getOrder = defineRoute({
    method: 'GET',
    path: '/orders/:id',
    name: 'getOrder',
    summary: 'One order with its saga history',
    tags: ['orders'],
    security: ['bearer'],
    use: [auth],
    params: OrderParams,
    responses: {
      200: { description: 'The order', body: OrderBody },
      400: problem('The id is not a UUID'),
      401: problem('No valid token'),
      404: problem('No such order, or not yours'),
    },
    handler: async ({ params, ctx, reply }) => {
      const viewer = viewerOf(ctx);
      const fresh = await recentlyWrote(viewer.id).catch(() => true);
      return reply(200, presentOrder(await orders.get(params.id, viewer, fresh)));
    },
  });

  const cancelOrder = defineRoute({
    method: 'POST',
    path: '/orders/:id/cancel',
    name: 'cancelOrder',
    summary: 'Cancel a pending order: its compensation runs asynchronously',
    tags: ['orders'],
    security: ['bearer'],
    use: [auth],
    params: OrderParams,
    responses: {
      202: { description: 'Cancellation under way (or done)', body: OrderBody },
      400: problem('The id is not a UUID'),
      401: problem('No valid token'),
      404: problem('No such order, or not yours'),
      409: problem('The order is already confirmed or cancelled'),
    },
    handler: async ({ params, ctx, reply }) => {
      const viewer = viewerOf(ctx);
      const order = await orders.cancel(params.id, viewer);
      await wrote(viewer.id).catch(() => {});
      return reply(202, presentOrder(order));
    },
  });

  return [placeOrder, listOrders, getOrder, cancelOrder];
}
