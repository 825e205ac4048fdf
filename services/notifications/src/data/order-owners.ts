import type { Tx } from './database.ts';

/** Which user an order belongs to: payment outcomes name only the order. */
export class OrderOwnersRepository {
  async put(tx: Tx, orderId: string, userId: string): Promise<void> {
    await tx.orderOwner.upsert({ where: { orderId }, create: { orderId, userId }, update: {} });
  }

  async get(tx: Tx, orderId: string): Promise<string | undefined> {
    const row = await tx.orderOwner.findUnique({ where: { orderId } });
    return row?.userId;
  }
}
