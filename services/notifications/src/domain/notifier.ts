import { ChunkLocks } from '../data/chunk-locks.ts';
import type { Tx } from '../data/database.ts';
import type { NotificationsRepository, NotificationView } from '../data/notifications.ts';
import type { OrderOwnersRepository } from '../data/order-owners.ts';
import type { RecipientsRepository } from '../data/recipients.ts';
import type { Message } from './messages.ts';

export interface Stored {
  userId: string;
  notification: NotificationView;
}

/** A payment outcome arrived before the order it belongs to was seen: retried by the consumer. */
export class UnknownOrderError extends Error {
  override name = 'UnknownOrderError';
}

/**
 * The rules, inside the consumer's inbox transaction: who is notified of what, once per event.
 * Nothing is stored for a deleted user.
 */
export class Notifier {
  readonly #locks = new ChunkLocks();

  constructor(
    private readonly notifications: NotificationsRepository,
    private readonly recipients: RecipientsRepository,
    private readonly owners: OrderOwnersRepository,
  ) {}

  /**
   * Takes, in the lock order, the locks a chunk of events sharing a transaction will take: the
   * owners of `owners` are remembered (in order id order), then the counters of `users` and of
   * the owners of `ownedOrders` are locked (in user id order).
   */
  async lockChunk(
    tx: Tx,
    chunk: {
      owners?: readonly { orderId: string; userId: string }[];
      users?: readonly string[];
      ownedOrders?: readonly string[];
    },
  ): Promise<void> {
    await this.#locks.owners(tx, chunk.owners ?? []);
    const owning = await this.#locks.ownersOf(tx, chunk.ownedOrders ?? []);
    await this.#locks.counters(tx, [...(chunk.users ?? []), ...owning]);
  }

  async notify(tx: Tx, eventId: string, userId: string, message: Message): Promise<Stored | undefined> {
    const recipient = await this.recipients.get(tx, userId);
    if (recipient?.deleted) return undefined;
    const notification = await this.notifications.insert(tx, {
      userId,
      eventId,
      ...message,
      email: Boolean(recipient?.email),
    });
    return notification ? { userId, notification } : undefined;
  }

  /** Notifies the owner of an order (payment events carry only the order id). */
  async notifyOrderOwner(
    tx: Tx,
    eventId: string,
    orderId: string,
    message: Message,
  ): Promise<Stored | undefined> {
    const userId = await this.owners.get(tx, orderId);
    if (!userId) throw new UnknownOrderError(`order ${orderId} not seen yet`);
    return this.notify(tx, eventId, userId, message);
  }

  rememberOrder(tx: Tx, orderId: string, userId: string): Promise<void> {
    return this.owners.put(tx, orderId, userId);
  }

  registered(tx: Tx, userId: string, email: string, displayName: string): Promise<void> {
    return this.recipients.upsert(tx, userId, { email, displayName });
  }

  updated(tx: Tx, userId: string, changes: { email?: string | undefined; displayName?: string | undefined }) {
    return this.recipients.upsert(tx, userId, {
      ...(changes.email ? { email: changes.email } : {}),
      ...(changes.displayName ? { displayName: changes.displayName } : {}),
    });
  }

  /** The user's notifications and order links are deleted; the address is forgotten. */
  async deleted(tx: Tx, userId: string): Promise<number> {
    await this.recipients.tombstone(tx, userId);
    return this.notifications.deleteUser(tx, userId);
  }
}
