import type { Tx } from './database.ts';

/**
 * The rows the consumer's handlers lock, taken for a chunk of events at once in the one order every
 * chunk uses: order owners by order id, then notification counters by user id. Taken event after
 * event instead, two chunks sharing users (orders.events and payments.events, or two partitions)
 * could each hold a counter the other waits for.
 */
export class ChunkLocks {
  /**
   * Inserts the chunk's order owners in order id order (an owner row is never changed, so only
   * concurrent inserts of one order wait for each other, and they do so in this order).
   */
  async owners(tx: Tx, owners: readonly { orderId: string; userId: string }[]): Promise<void> {
    if (owners.length === 0) return;
    await tx.$executeRawUnsafe(
      `INSERT INTO "notification_order_owners" ("order_id", "user_id")
       SELECT o.order_id, o.user_id FROM unnest($1::uuid[], $2::uuid[]) AS o(order_id, user_id)
       ORDER BY o.order_id
       ON CONFLICT ("order_id") DO NOTHING`,
      owners.map((o) => o.orderId),
      owners.map((o) => o.userId),
    );
  }

  /** The users owning these orders, where known (no lock). */
  async ownersOf(tx: Tx, orderIds: readonly string[]): Promise<string[]> {
    if (orderIds.length === 0) return [];
    const rows = await tx.$queryRawUnsafe<{ user_id: string }[]>(
      `SELECT "user_id"::text FROM "notification_order_owners" WHERE "order_id" = ANY($1::uuid[])`,
      orderIds,
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * Locks the users' notification counters in user id order, creating missing ones at 0 (the
   * insert then counts from there). One statement that inserts or locks row by row in that order:
   * a separate insert and SELECT … FOR UPDATE would wait out of order on each other's new rows.
   */
  async counters(tx: Tx, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await tx.$executeRawUnsafe(
      `INSERT INTO "notification_counters" ("user_id", "last_id")
       SELECT u, 0 FROM (SELECT DISTINCT unnest($1::uuid[]) AS u) AS d ORDER BY u
       ON CONFLICT ("user_id") DO UPDATE SET "last_id" = "notification_counters"."last_id"`,
      userIds,
    );
  }
}
