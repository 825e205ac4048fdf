import type { CancelReason, HistoryEntry, OrderStatus, Saga, SagaState, StockState } from '../domain/saga.ts';
import type { PrismaClient, Tx } from './database.ts';

/** Raw SQL against the orders tables; every function runs on the client or transaction it is given. */
type Sql = Pick<PrismaClient, '$queryRawUnsafe' | '$executeRawUnsafe'> | Tx;

export interface NewOrder {
  id: string;
  userId: string;
  totalCents: number;
  currency: string;
  card: { token: string; last4: string };
  shippingNote: string | null;
  lines: { itemId: string; title: string; quantity: number; unitPriceCents: number }[];
}

export interface OrderRow {
  id: string;
  userId: string;
  status: OrderStatus;
  totalCents: number;
  currency: string;
  cardLast4: string;
  shippingNote: string | null;
  cancelReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  sagaState: SagaState;
  stepId: string | null;
  deadlineAt: Date | null;
  stepAttempts: number;
  lines: { itemId: string; title: string; quantity: number; unitPriceCents: number }[];
  history: { step: string; outcome: string; detail: Record<string, unknown> | null; at: Date }[];
}

/** The order, its lines, its saga and its first history entry, in the caller's transaction. */
export async function insertOrder(
  tx: Tx,
  order: NewOrder,
  saga: Saga,
  history: HistoryEntry[],
): Promise<void> {
  await tx.$executeRawUnsafe(
    `WITH o AS (
       INSERT INTO orders (id, user_id, status, total_cents, currency, card_token, card_last4, shipping_note)
       VALUES ($1::uuid, $2::uuid, 'PENDING', $3, $4, $5, $6, $7) RETURNING id
     ), l AS (
       INSERT INTO order_lines (order_id, line_no, item_id, title, quantity, unit_price_cents)
       SELECT $1::uuid, x.n, x.item_id, x.title, x.quantity, x.unit_price_cents
       FROM jsonb_to_recordset($8::jsonb) AS x(n int, item_id uuid, title text, quantity int, unit_price_cents bigint)
       RETURNING 1
     ), s AS (
       INSERT INTO sagas (order_id, state, step_id, step_attempts, deadline_at, stock)
       VALUES ($1::uuid, $9, $10::uuid, 1, $11, $12) RETURNING 1
     )
     INSERT INTO saga_history (order_id, step, outcome, detail)
     SELECT $1::uuid, h.step, h.outcome, h.detail FROM jsonb_to_recordset($13::jsonb) AS h(step text, outcome text, detail jsonb)`,
    order.id,
    order.userId,
    order.totalCents,
    order.currency,
    order.card.token,
    order.card.last4,
    order.shippingNote,
    JSON.stringify(
      order.lines.map((l, n) => ({
        n,
        item_id: l.itemId,
        title: l.title,
        quantity: l.quantity,
        unit_price_cents: l.unitPriceCents,
      })),
    ),
    saga.state,
    saga.stepId,
    saga.deadlineAt,
    saga.stock,
    JSON.stringify(history.map((h) => ({ ...h, detail: h.detail ?? null }))),
  );
}

interface SagaRow {
  order_id: string;
  user_id: string;
  state: SagaState;
  step_id: string | null;
  step_attempts: number;
  deadline_at: Date | null;
  stock: StockState;
  reservation_id: string | null;
  reservation_until: Date | null;
  payment_id: string | null;
  cancel_reason: CancelReason | null;
  total_cents: bigint | number;
  currency: string;
  card_token: string;
  card_last4: string;
}

const SAGA_COLUMNS = `s.order_id::text, o.user_id::text, s.state, s.step_id::text, s.step_attempts, s.deadline_at, s.stock,
  s.reservation_id::text, s.reservation_until, s.payment_id::text, s.cancel_reason, o.total_cents, o.currency,
  o.card_token, o.card_last4`;

function toSaga(r: SagaRow): Saga {
  return {
    orderId: r.order_id,
    userId: r.user_id,
    state: r.state,
    stepId: r.step_id,
    stepAttempts: r.step_attempts,
    deadlineAt: r.deadline_at,
    stock: r.stock,
    reservationId: r.reservation_id,
    reservationUntil: r.reservation_until,
    paymentId: r.payment_id,
    cancelReason: r.cancel_reason,
    totalCents: Number(r.total_cents),
    currency: r.currency.trim(),
    card: { token: r.card_token, last4: r.card_last4 },
  };
}

/** Locks the saga row (every writer of a saga goes through this lock) and reads it. */
export async function lockSaga(tx: Tx, orderId: string): Promise<Saga | undefined> {
  const rows = await tx.$queryRawUnsafe<SagaRow[]>(
    `SELECT ${SAGA_COLUMNS} FROM sagas s JOIN orders o ON o.id = s.order_id
     WHERE s.order_id = $1::uuid FOR UPDATE OF s`,
    orderId,
  );
  return rows[0] ? toSaga(rows[0]) : undefined;
}

/** Locks up to `limit` sagas whose step deadline passed, skipping those another replica holds. */
export async function lockDue(tx: Tx, limit: number): Promise<Saga[]> {
  const rows = await tx.$queryRawUnsafe<SagaRow[]>(
    `SELECT ${SAGA_COLUMNS} FROM sagas s JOIN orders o ON o.id = s.order_id
     WHERE s.deadline_at IS NOT NULL AND s.deadline_at <= now()
     ORDER BY s.deadline_at LIMIT $1 FOR UPDATE OF s SKIP LOCKED`,
    limit,
  );
  return rows.map(toSaga);
}

/** Writes the saga, its history entries and, when it changed, the order's status. */
export async function saveSaga(
  tx: Tx,
  saga: Saga,
  history: HistoryEntry[],
  status: OrderStatus | undefined,
): Promise<{ createdAt: Date } | undefined> {
  await tx.$executeRawUnsafe(
    `WITH s AS (
       UPDATE sagas SET state = $2, step_id = $3::uuid, step_attempts = $4, deadline_at = $5, stock = $6,
         reservation_id = $7::uuid, reservation_until = $8, payment_id = $9::uuid, cancel_reason = $10, updated_at = now()
       WHERE order_id = $1::uuid RETURNING 1
     )
     INSERT INTO saga_history (order_id, step, outcome, detail)
     SELECT $1::uuid, h.step, h.outcome, h.detail FROM jsonb_to_recordset($11::jsonb) AS h(step text, outcome text, detail jsonb)`,
    saga.orderId,
    saga.state,
    saga.stepId,
    saga.stepAttempts,
    saga.deadlineAt,
    saga.stock,
    saga.reservationId,
    saga.reservationUntil,
    saga.paymentId,
    saga.cancelReason,
    JSON.stringify(history.map((h) => ({ ...h, detail: h.detail ?? null }))),
  );
  if (!status) return undefined;
  const terminal = status === 'CONFIRMED' || status === 'CANCELLED';
  const rows = await tx.$queryRawUnsafe<{ created_at: Date }[]>(
    `UPDATE orders SET status = $2::order_status, cancel_reason = $3, updated_at = now(),
       completed_at = CASE WHEN $4 THEN now() ELSE completed_at END
     WHERE id = $1::uuid RETURNING created_at`,
    saga.orderId,
    status,
    saga.cancelReason,
    terminal,
  );
  return rows[0] ? { createdAt: rows[0].created_at } : undefined;
}

interface OrderListRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_cents: bigint | number;
  currency: string;
  card_last4: string;
  shipping_note: string | null;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  state: SagaState;
  step_id: string | null;
  deadline_at: Date | null;
  step_attempts: number;
  lines: { itemId: string; title: string; quantity: number; unitPriceCents: number }[];
  history: { step: string; outcome: string; detail: Record<string, unknown> | null; at: string }[];
}

const ORDER_SELECT = `SELECT o.id::text, o.user_id::text, o.status::text AS status, o.total_cents, o.currency, o.card_last4,
  o.shipping_note, o.cancel_reason, o.created_at, o.updated_at, o.completed_at,
  s.state, s.step_id::text, s.deadline_at, s.step_attempts,
  (SELECT coalesce(jsonb_agg(jsonb_build_object('itemId', l.item_id, 'title', l.title, 'quantity', l.quantity,
      'unitPriceCents', l.unit_price_cents) ORDER BY l.line_no), '[]') FROM order_lines l WHERE l.order_id = o.id) AS lines,
  (SELECT coalesce(jsonb_agg(jsonb_build_object('step', h.step, 'outcome', h.outcome, 'detail', h.detail, 'at', h.at)
      ORDER BY h.seq), '[]') FROM saga_history h WHERE h.order_id = o.id) AS history
  FROM orders o JOIN sagas s ON s.order_id = o.id`;

function toOrder(r: OrderListRow): OrderRow {
  return {
    id: r.id,
    userId: r.user_id,
    status: r.status,
    totalCents: Number(r.total_cents),
    currency: r.currency.trim(),
    cardLast4: r.card_last4,
    shippingNote: r.shipping_note,
    cancelReason: r.cancel_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
    sagaState: r.state,
    stepId: r.step_id,
    deadlineAt: r.deadline_at,
    stepAttempts: r.step_attempts,
    lines: r.lines.map((l) => ({ ...l, unitPriceCents: Number(l.unitPriceCents) })),
    history: r.history.map((h) => ({ ...h, at: new Date(h.at) })),
  };
}

export async function findOrder(db: Sql, id: string): Promise<OrderRow | undefined> {
  const rows = await db.$queryRawUnsafe<OrderListRow[]>(`${ORDER_SELECT} WHERE o.id = $1::uuid`, id);
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/** Newest first, keyset on (created_at, id); `userId` undefined lists everyone's (admins). */
export async function listOrders(
  db: Sql,
  options: {
    userId?: string | undefined;
    after?: { createdAt: Date; id: string } | undefined;
    limit: number;
  },
): Promise<OrderRow[]> {
  const params: unknown[] = [options.limit];
  const where: string[] = [];
  if (options.userId) {
    params.push(options.userId);
    where.push(`o.user_id = $${params.length}::uuid`);
  }
  if (options.after) {
    params.push(options.after.createdAt, options.after.id);
    where.push(`(o.created_at, o.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  const rows = await db.$queryRawUnsafe<OrderListRow[]>(
    `${ORDER_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY o.created_at DESC, o.id DESC LIMIT $1`,
    ...params,
  );
  return rows.map(toOrder);
}

export interface StoredAnswer {
  requestHash: string;
  orderId: string;
  status: number;
  body: unknown;
}

export async function findIdempotencyKey(
  db: Sql,
  userId: string,
  key: string,
): Promise<StoredAnswer | undefined> {
  const rows = await db.$queryRawUnsafe<
    { request_hash: string; order_id: string; status: number; body: unknown }[]
  >(
    `SELECT request_hash, order_id::text, status, body FROM idempotency_keys WHERE user_id = $1::uuid AND key = $2`,
    userId,
    key,
  );
  const r = rows[0];
  return r ? { requestHash: r.request_hash, orderId: r.order_id, status: r.status, body: r.body } : undefined;
}

/** False when the key is taken (a concurrent request with the same key won). */
export async function claimIdempotencyKey(
  tx: Tx,
  userId: string,
  key: string,
  answer: StoredAnswer,
): Promise<boolean> {
  const n = await tx.$executeRawUnsafe(
    `INSERT INTO idempotency_keys (user_id, key, request_hash, order_id, status, body)
     VALUES ($1::uuid, $2, $3, $4::uuid, $5, $6::jsonb) ON CONFLICT DO NOTHING`,
    userId,
    key,
    answer.requestHash,
    answer.orderId,
    answer.status,
    JSON.stringify(answer.body),
  );
  return n === 1;
}

/** Sagas still running, for the in-flight gauge. */
export async function countInFlight(db: Sql): Promise<number> {
  const rows = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM sagas WHERE deadline_at IS NOT NULL`,
  );
  return rows[0]?.n ?? 0;
}
