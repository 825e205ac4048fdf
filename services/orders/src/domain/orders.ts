import { createHash } from 'node:crypto';
import { conflict, type HttpClient, notFound, Problem } from '@souk/kit';
import { appendToOutbox, OrderPlaced, uuidv7 } from '@souk/kit/events/index';
import type { OrdersDb } from '../data/database.ts';
import {
  claimIdempotencyKey,
  findIdempotencyKey,
  findOrder,
  insertOrder,
  listOrders,
  type OrderRow,
} from '../data/orders.ts';
import { priceLines } from './pricing.ts';
import { startSaga } from './saga.ts';
import type { SagaRunner } from './saga-runner.ts';

export interface PlaceOrder {
  userId: string;
  idempotencyKey: string;
  lines: { itemId: string; quantity: number }[];
  card: { token: string; last4: string };
  shippingNote: string | null;
}

export interface Answer {
  status: number;
  body: unknown;
  replayed: boolean;
}

const TYPE_BASE = 'https://souk.dev/problems';

/** The request as the key remembers it: what was ordered, with the card as its token. */
function requestHash(order: PlaceOrder): string {
  const canonical = JSON.stringify({
    lines: order.lines.map((l) => [l.itemId, l.quantity]),
    card: order.card.token,
    shippingNote: order.shippingNote,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

function keyReused(): Problem {
  return new Problem(422, {
    type: `${TYPE_BASE}/idempotency-key-reused`,
    detail: 'this Idempotency-Key was used with a different request',
    extensions: {
      errors: [
        {
          in: 'headers',
          pointer: '/Idempotency-Key',
          field: 'Idempotency-Key',
          message: 'already used with a different request body',
        },
      ],
    },
  });
}

export class Orders {
  constructor(
    private readonly db: OrdersDb,
    private readonly inventory: HttpClient,
    private readonly runner: SagaRunner,
    private readonly present: (order: OrderRow) => unknown,
  ) {}

  /**
   * Places an order once per (user, Idempotency-Key): prices it, then writes the order, its saga,
   * the key with the answer, and OrderPlaced in one transaction. The same key again answers what
   * the first request got; with another body, a 422.
   */
  async place(order: PlaceOrder, signal?: AbortSignal): Promise<Answer> {
    const hash = requestHash(order);
    const previous = await findIdempotencyKey(this.db.primary, order.userId, order.idempotencyKey);
    if (previous) return this.#replay(previous, hash);
    const priced = await priceLines(this.inventory, order.lines, signal);
    const orderId = uuidv7();
    const now = new Date();
    const saga = startSaga(
      {
        orderId,
        userId: order.userId,
        totalCents: priced.totalCents,
        currency: priced.currency,
        card: order.card,
      },
      now,
      this.runner.timings,
    );
    const created = await this.db.primary
      .$transaction(async (tx) => {
        await insertOrder(
          tx,
          {
            id: orderId,
            userId: order.userId,
            totalCents: priced.totalCents,
            currency: priced.currency,
            card: order.card,
            shippingNote: order.shippingNote,
            lines: priced.lines,
          },
          saga,
          [{ step: 'order', outcome: 'PENDING' }],
        );
        const row = await findOrder(tx, orderId);
        const body = this.present(row!);
        const claimed = await claimIdempotencyKey(tx, order.userId, order.idempotencyKey, {
          requestHash: hash,
          orderId,
          status: 201,
          body,
        });
        if (!claimed) throw new KeyTaken();
        await appendToOutbox(
          tx,
          OrderPlaced.create(orderId, {
            orderId,
            userId: order.userId,
            lines: priced.lines.map((l) => ({
              itemId: l.itemId,
              quantity: l.quantity,
              unitPriceCents: l.unitPriceCents,
            })),
            totalCents: priced.totalCents,
            currency: priced.currency,
          }),
        );
        return body;
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof KeyTaken)) throw error;
        return undefined;
      });
    if (created === undefined) {
      // A concurrent request with the same key committed first: answer as it was answered.
      const winner = await findIdempotencyKey(this.db.primary, order.userId, order.idempotencyKey);
      if (!winner) throw new Error('idempotency key vanished');
      return this.#replay(winner, hash);
    }
    return { status: 201, body: created, replayed: false };
  }

  #replay(previous: { requestHash: string; status: number; body: unknown }, hash: string): Answer {
    if (previous.requestHash !== hash) throw keyReused();
    return { status: previous.status, body: previous.body, replayed: true };
  }

  /** Owner or admin; anyone else gets the same 404 as for a missing order. */
  async get(id: string, viewer: { id: string; admin: boolean }, fresh: boolean): Promise<OrderRow> {
    let order = fresh ? undefined : await findOrder(this.db.client.$replica(), id);
    // Not on the replica yet (just placed): the primary has it.
    order ??= await findOrder(this.db.primary, id);
    if (!order || (order.userId !== viewer.id && !viewer.admin)) throw notFound('no such order');
    return order;
  }

  list(options: {
    userId?: string | undefined;
    after?: { createdAt: Date; id: string } | undefined;
    limit: number;
    fresh: boolean;
  }): Promise<OrderRow[]> {
    const db = options.fresh ? this.db.primary : this.db.client.$replica();
    return listOrders(db, options);
  }

  /** 202 while the order is pending (compensation follows); 409 once it is confirmed or cancelled. */
  async cancel(id: string, viewer: { id: string; admin: boolean }): Promise<OrderRow> {
    const result = await this.db.primary.$transaction(async (tx) => {
      const order = await findOrder(tx, id);
      if (!order || (order.userId !== viewer.id && !viewer.admin)) throw notFound('no such order');
      const applied = await this.runner.apply(tx, id, { kind: 'Cancel' });
      if (!applied.decision?.accepted) {
        throw conflict(`the order is ${order.status.toLowerCase()} and can no longer be cancelled`, {
          orderStatus: order.status,
        });
      }
      return { ending: applied.ending, order: (await findOrder(tx, id))! };
    });
    this.runner.count(result.ending);
    return result.order;
  }
}

class KeyTaken extends Error {}
