import { appendToOutbox, StockRejected, StockReleased, StockReserved, uuidv7 } from '@souk/kit/events/index';
import type { Tx } from '../data/database.ts';
import {
  closeHeld,
  insertReservation,
  lockExpired,
  lockHeld,
  lockStock,
  moveStock,
  reservationStatus,
  type StockLine,
} from '../data/reservations.ts';

export type ReservationResult =
  | 'reserved'
  | 'rejected'
  | 'released'
  | 'expired'
  | 'committed'
  | 'recommitted'
  | 'oversold'
  | 'duplicate'
  | 'nothing_held';

export interface ReservationOutcome {
  result: ReservationResult;
  /** Items whose stock moved (their cached entries are dropped). */
  itemIds: string[];
  /** `oversold`: the order, and its lines whose stock was no longer there. */
  oversold?: { orderId: string; short: StockLine[] };
}

/** One line per item, quantities summed, in id order (the lock order). */
export function mergeLines(lines: readonly StockLine[]): StockLine[] {
  const byItem = new Map<string, number>();
  for (const line of lines) byItem.set(line.itemId, (byItem.get(line.itemId) ?? 0) + line.quantity);
  return [...byItem.entries()]
    .map(([itemId, quantity]) => ({ itemId, quantity }))
    .sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
}

/**
 * Locks, in id order, the items of all these orders: what reserve() locks for each of them, taken
 * at once for a chunk of orders handled in one transaction. Locking order after order instead, two
 * such transactions could each hold an item the other waits for.
 */
export async function lockForReserve(
  tx: Tx,
  orders: readonly { lines: readonly StockLine[] }[],
): Promise<void> {
  const lines = mergeLines(orders.flatMap((o) => o.lines));
  if (lines.length > 0)
    await lockStock(
      tx,
      lines.map((l) => l.itemId),
    );
}

/**
 * Locks what release() locks for each of these orders (their held reservations, then their items),
 * for all of them at once in the lock order; see lockForReserve.
 */
export function lockForRelease(tx: Tx, orderIds: readonly string[]): Promise<void> {
  return lockHeld(tx, [...orderIds]);
}

/**
 * Reserves all of an order's lines or none. The items are locked in id order, every line is
 * checked, and only then is stock taken, in the same transaction that records the reservation and
 * appends StockReserved or StockRejected. A second OrderPlaced for the order changes nothing.
 */
export async function reserve(
  tx: Tx,
  order: { orderId: string; lines: readonly StockLine[] },
  ttlMs: number,
): Promise<ReservationOutcome> {
  if ((await reservationStatus(tx, order.orderId)) !== undefined) return { result: 'duplicate', itemIds: [] };
  const lines = mergeLines(order.lines);
  const itemIds = lines.map((l) => l.itemId);
  const stock = new Map((await lockStock(tx, itemIds)).map((row) => [row.id, row]));
  const missing = itemIds.filter((id) => !stock.has(id));
  const short = lines
    .filter((l) => {
      const row = stock.get(l.itemId);
      return row && (row.availability !== 'available' || row.quantity < l.quantity);
    })
    .map((l) => l.itemId);
  const reservationId = uuidv7();
  if (missing.length > 0 || short.length > 0) {
    const inserted = await insertReservation(tx, {
      id: reservationId,
      orderId: order.orderId,
      status: 'rejected',
      expiresAt: new Date(),
    });
    if (!inserted) return { result: 'duplicate', itemIds: [] };
    const reason = missing.length > 0 ? 'item_not_found' : 'out_of_stock';
    await appendToOutbox(
      tx,
      StockRejected.create(order.orderId, {
        orderId: order.orderId,
        reason,
        itemIds: missing.length > 0 ? missing : short,
      }),
    );
    return { result: 'rejected', itemIds: [] };
  }
  const expiresAt = new Date(Date.now() + ttlMs);
  const inserted = await insertReservation(
    tx,
    { id: reservationId, orderId: order.orderId, status: 'held', expiresAt },
    lines,
  );
  if (!inserted) return { result: 'duplicate', itemIds: [] };
  await moveStock(tx, lines, -1);
  await appendToOutbox(
    tx,
    StockReserved.create(order.orderId, {
      orderId: order.orderId,
      reservationId,
      lines,
      expiresAt: expiresAt.toISOString(),
    }),
  );
  return { result: 'reserved', itemIds };
}

/**
 * Gives a held reservation's stock back and appends StockReleased. Idempotent: an order that holds
 * nothing (already released or committed) is left alone; one never seen is marked released, so
 * an OrderPlaced arriving after its cancellation reserves nothing.
 */
export async function release(
  tx: Tx,
  orderId: string,
  reason: 'order_cancelled' | 'expired',
): Promise<ReservationOutcome> {
  const held = await closeHeld(tx, orderId, reason === 'expired' ? 'expired' : 'released');
  if (!held) {
    await insertReservation(tx, { id: uuidv7(), orderId, status: 'released', expiresAt: new Date() });
    return { result: 'nothing_held', itemIds: [] };
  }
  // Lock in id order like reserve() does; closeHeld returned the lines sorted.
  await lockStock(
    tx,
    held.lines.map((l) => l.itemId),
  );
  await moveStock(tx, held.lines, 1);
  if (held.lines.length > 0) {
    await appendToOutbox(
      tx,
      StockReleased.create(orderId, { orderId, reservationId: held.id, lines: held.lines, reason }),
    );
  }
  return {
    result: reason === 'expired' ? 'expired' : 'released',
    itemIds: held.lines.map((l) => l.itemId),
  };
}

/**
 * The order is confirmed: its stock is gone for good. Idempotent.
 *
 * The saga confirms only before the reservation's expiry (less a margin), but the confirmation can
 * reach inventory after the sweeper expired the reservation (this consumer was behind by more than
 * the margin). The order is paid, so its stock is taken again: all of it when every line is still
 * there (`recommitted`); otherwise none, and the order is `oversold`, for someone to backorder or
 * refund. Either way the reservation ends `committed`, so a redelivery changes nothing.
 */
export async function commit(tx: Tx, orderId: string): Promise<ReservationOutcome> {
  if (await closeHeld(tx, orderId, 'committed')) return { result: 'committed', itemIds: [] };
  const expired = await closeHeld(tx, orderId, 'committed', 'expired');
  if (!expired) return { result: 'nothing_held', itemIds: [] };
  const itemIds = expired.lines.map((l) => l.itemId);
  const stock = new Map((await lockStock(tx, itemIds)).map((row) => [row.id, row.quantity]));
  const short = expired.lines.filter((l) => (stock.get(l.itemId) ?? 0) < l.quantity);
  if (short.length > 0) return { result: 'oversold', itemIds: [], oversold: { orderId, short } };
  await moveStock(tx, expired.lines, -1);
  return { result: 'recommitted', itemIds };
}

/** Releases up to `limit` expired reservations; the caller runs it in one transaction. */
export async function releaseExpired(
  tx: Tx,
  limit: number,
): Promise<{ released: number; itemIds: string[] }> {
  const expired = await lockExpired(tx, limit);
  // The whole batch's items at once, in id order, like the consumer's chunks: see lockForReserve.
  await lockHeld(
    tx,
    expired.map((e) => e.orderId),
  );
  const itemIds: string[] = [];
  for (const { orderId } of expired) {
    const outcome = await release(tx, orderId, 'expired');
    itemIds.push(...outcome.itemIds);
  }
  return { released: expired.length, itemIds };
}
