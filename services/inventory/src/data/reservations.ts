import type { Tx } from './database.ts';

export interface StockLine {
  itemId: string;
  quantity: number;
}

export interface StockRow {
  id: string;
  quantity: number;
  availability: 'available' | 'unavailable';
}

export type ReservationStatus = 'held' | 'committed' | 'released' | 'rejected' | 'expired';

/**
 * Locks the items of an order in id order. Every transaction that locks several items does so in
 * this order, so two orders sharing items wait for each other instead of deadlocking.
 */
export function lockStock(tx: Tx, itemIds: string[]): Promise<StockRow[]> {
  return tx.$queryRawUnsafe<StockRow[]>(
    `SELECT id::text, quantity, availability::text AS availability FROM items
     WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    itemIds,
  );
}

/**
 * Locks the held reservations of these orders (in order id order), then all their items at once in
 * id order: the locks release() takes for each order, taken for several orders in the lock order.
 */
export async function lockHeld(tx: Tx, orderIds: string[]): Promise<void> {
  await tx.$executeRawUnsafe(
    `SELECT 1 FROM reservations WHERE order_id = ANY($1::uuid[]) AND status = 'held'
     ORDER BY order_id FOR UPDATE`,
    orderIds,
  );
  await tx.$executeRawUnsafe(
    `SELECT 1 FROM items WHERE id IN (
       SELECT l.item_id FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
       WHERE r.order_id = ANY($1::uuid[]) AND r.status = 'held')
     ORDER BY id FOR UPDATE`,
    orderIds,
  );
}

/** Adds `sign * quantity` to each line's item (rows already locked by the caller). */
export async function moveStock(tx: Tx, lines: StockLine[], sign: 1 | -1): Promise<void> {
  await tx.$executeRawUnsafe(
    `UPDATE items SET quantity = items.quantity + $3::int * v.q, version = items.version + 1, updated_at = now()
     FROM unnest($1::uuid[], $2::int[]) AS v(id, q) WHERE items.id = v.id`,
    lines.map((l) => l.itemId),
    lines.map((l) => l.quantity),
    sign,
  );
}

export async function reservationStatus(tx: Tx, orderId: string): Promise<ReservationStatus | undefined> {
  const rows = await tx.$queryRawUnsafe<{ status: ReservationStatus }[]>(
    `SELECT status::text AS status FROM reservations WHERE order_id = $1::uuid`,
    orderId,
  );
  return rows[0]?.status;
}

/** Records the order's outcome; false when the order already has one (a replay, or a cancel that came first). */
export async function insertReservation(
  tx: Tx,
  reservation: { id: string; orderId: string; status: ReservationStatus; expiresAt: Date },
  lines: StockLine[] = [],
): Promise<boolean> {
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO reservations (id, order_id, status, expires_at) VALUES ($1::uuid, $2::uuid, $3::reservation_status, $4)
     ON CONFLICT (order_id) DO NOTHING`,
    reservation.id,
    reservation.orderId,
    reservation.status,
    reservation.expiresAt,
  );
  if (inserted === 0) return false;
  if (lines.length > 0) {
    await tx.$executeRawUnsafe(
      `INSERT INTO reservation_lines (reservation_id, item_id, quantity)
       SELECT $1::uuid, v.id, v.q FROM unnest($2::uuid[], $3::int[]) AS v(id, q)`,
      reservation.id,
      lines.map((l) => l.itemId),
      lines.map((l) => l.quantity),
    );
  }
  return true;
}

/**
 * Moves the order's reservation from `from` (default `held`) to `status`, with its lines; undefined
 * when it is not in `from` (already done, or never held).
 */
export async function closeHeld(
  tx: Tx,
  orderId: string,
  status: 'committed' | 'released' | 'expired',
  from: 'held' | 'expired' = 'held',
): Promise<{ id: string; lines: StockLine[] } | undefined> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    `UPDATE reservations SET status = $2::reservation_status, updated_at = now()
     WHERE order_id = $1::uuid AND status = $3::reservation_status RETURNING id::text`,
    orderId,
    status,
    from,
  );
  const id = rows[0]?.id;
  if (!id) return undefined;
  const lines = await tx.$queryRawUnsafe<StockLine[]>(
    `SELECT item_id::text AS "itemId", quantity FROM reservation_lines WHERE reservation_id = $1::uuid ORDER BY item_id`,
    id,
  );
  return { id, lines };
}

/** Held reservations past their deadline, locked; ones another sweeper holds are skipped. */
export function lockExpired(tx: Tx, limit: number): Promise<{ orderId: string }[]> {
  return tx.$queryRawUnsafe<{ orderId: string }[]>(
    `SELECT order_id::text AS "orderId" FROM reservations WHERE status = 'held' AND expires_at <= now()
     ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    limit,
  );
}
