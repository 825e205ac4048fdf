import type { Prisma } from '../../generated/client/client.ts';
import type { NotificationsDb, Tx } from './database.ts';

/** A stored notification as the API shows it (ids are small per-user counters: numbers). */
export interface NotificationView {
  id: number;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

export interface NewNotification {
  userId: string;
  eventId: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  /** Whether an e-mail is to be sent (an address is known). */
  email: boolean;
}

interface Row {
  id: bigint;
  kind: string;
  title: string;
  body: string;
  data: Prisma.JsonValue;
  createdAt: Date;
  readAt: Date | null;
}

export function toView(row: Row): NotificationView {
  return {
    id: Number(row.id),
    kind: row.kind,
    title: row.title,
    body: row.body,
    data: (row.data ?? {}) as Record<string, unknown>,
    createdAt: row.createdAt.toISOString(),
    readAt: row.readAt ? row.readAt.toISOString() : null,
  };
}

export class NotificationsRepository {
  constructor(private readonly db: NotificationsDb) {}

  /**
   * Stores one notification per event id. The id comes from the user's counter row, locked until
   * the transaction commits, so one user's ids are handed out in commit order without gaps.
   */
  async insert(tx: Tx, n: NewNotification): Promise<NotificationView | undefined> {
    const existing = await tx.notification.findUnique({
      where: { eventId: n.eventId },
      select: { id: true },
    });
    if (existing) return undefined;
    const [counter] = await tx.$queryRaw<{ last_id: bigint }[]>`
      INSERT INTO "notification_counters" ("user_id", "last_id") VALUES (${n.userId}::uuid, 1)
      ON CONFLICT ("user_id") DO UPDATE SET "last_id" = "notification_counters"."last_id" + 1
      RETURNING "last_id"`;
    const row = await tx.notification.create({
      data: {
        userId: n.userId,
        id: counter!.last_id,
        eventId: n.eventId,
        kind: n.kind,
        title: n.title,
        body: n.body,
        data: n.data as Prisma.InputJsonValue,
        emailStatus: n.email ? 'pending' : 'skipped',
      },
    });
    return toView(row);
  }

  /** Newest first, `before` an id (the cursor), optionally only the unread ones. Reads the replica. */
  async page(
    userId: string,
    options: { before?: number | undefined; limit: number; unread: boolean },
  ): Promise<NotificationView[]> {
    const rows = await this.db.client.notification.findMany({
      where: {
        userId,
        ...(options.before !== undefined ? { id: { lt: BigInt(options.before) } } : {}),
        ...(options.unread ? { readAt: null } : {}),
      },
      orderBy: { id: 'desc' },
      take: options.limit,
    });
    return rows.map(toView);
  }

  /** Oldest first, every notification after `afterId`: what a reconnecting client missed (primary). */
  async after(userId: string, afterId: number, limit = 500): Promise<NotificationView[]> {
    const rows = await this.db.primary.notification.findMany({
      where: { userId, id: { gt: BigInt(afterId) } },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map(toView);
  }

  /** The user's newest id (0 when none). */
  async lastId(userId: string): Promise<number> {
    const counter = await this.db.primary.notificationCounter.findUnique({ where: { userId } });
    return counter ? Number(counter.lastId) : 0;
  }

  async unreadCount(userId: string): Promise<number> {
    return this.db.client.notification.count({ where: { userId, readAt: null } });
  }

  /** Marks one read; undefined when the user has no such notification. */
  async markRead(userId: string, id: number): Promise<NotificationView | undefined> {
    const key = { userId_id: { userId, id: BigInt(id) } };
    const found = await this.db.primary.notification.findUnique({ where: key });
    if (!found) return undefined;
    if (found.readAt) return toView(found);
    return toView(await this.db.primary.notification.update({ where: key, data: { readAt: new Date() } }));
  }

  async markAllRead(userId: string): Promise<number> {
    const result = await this.db.primary.notification.updateMany({
      where: { userId, readAt: null },
      data: { readAt: new Date() },
    });
    return result.count;
  }

  /** Everything kept about the user's notifications goes (the counter stays, so ids never repeat). */
  async deleteUser(tx: Tx, userId: string): Promise<number> {
    const result = await tx.notification.deleteMany({ where: { userId } });
    await tx.orderOwner.deleteMany({ where: { userId } });
    return result.count;
  }
}
