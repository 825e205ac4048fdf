import type { Tx } from './database.ts';

export interface Recipient {
  userId: string;
  email: string | null;
  displayName: string | null;
  deleted: boolean;
}

/** Users' addresses as their events told them, and tombstones of deleted users. */
export class RecipientsRepository {
  async get(tx: Tx, userId: string): Promise<Recipient | undefined> {
    const row = await tx.recipient.findUnique({ where: { userId } });
    return row
      ? { userId, email: row.email, displayName: row.displayName, deleted: row.deletedAt !== null }
      : undefined;
  }

  /** Records or changes an address; a deleted user stays deleted. */
  async upsert(tx: Tx, userId: string, change: { email?: string; displayName?: string }): Promise<void> {
    const existing = await tx.recipient.findUnique({ where: { userId } });
    if (existing?.deletedAt) return;
    await tx.recipient.upsert({
      where: { userId },
      create: { userId, email: change.email ?? null, displayName: change.displayName ?? null },
      update: change,
    });
  }

  /** Forgets the address and name, keeping a tombstone so later events for the user store nothing. */
  async tombstone(tx: Tx, userId: string): Promise<void> {
    await tx.recipient.upsert({
      where: { userId },
      create: { userId, deletedAt: new Date() },
      update: { email: null, displayName: null, deletedAt: new Date() },
    });
  }
}
