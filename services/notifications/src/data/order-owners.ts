import type { Tx } from './database.ts';

/** Which user an order belongs to: payment outcomes name only the order. */
export class OrderOwnersRepository {
  /** An owner row never changes: the insert locks nothing that exists (see ChunkLocks). */
  async put(tx: Tx, orderId: string, userId: string): Promise<void> {
    await tx.$executeRawUnsafe(
      `INSERT INTO "notification_order_owners" ("order_id", "user_id") VALUES ($1::uuid, $2::uuid)
       ON CONFLICT ("order_id") DO NOTHING`,
      orderId,
      userId,
    );
  }

  async get(tx: Tx, orderId: string): Promise<string | undefined> {
    const row = await tx.orderOwner.findUnique({ where: { orderId } });
    return row?.userId;
  }
}
