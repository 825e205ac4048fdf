import type { Role, User } from '../../generated/client/client.ts';
import type { Tx, UsersDb } from './database.ts';

export type { Role, User };

export interface NewUser {
  id: string;
  email: string;
  displayName: string;
  passwordHash: string;
  role: Role;
}

/** Accounts. Security decisions read the primary; profile reads may use the replica. */
export class UsersRepository {
  constructor(private readonly db: UsersDb) {}

  /** For login and every check that must see the latest state. */
  byEmailOnPrimary(email: string): Promise<User | null> {
    return this.db.primary.user.findUnique({ where: { email } });
  }

  byIdOnPrimary(id: string): Promise<User | null> {
    return this.db.primary.user.findUnique({ where: { id } });
  }

  /**
   * A profile read: the replica first, the primary when the replica has not seen the row yet or
   * has an older version than `notBefore` (the account's own recent write).
   */
  async byIdTolerant(id: string, notBefore?: Date): Promise<User | null> {
    const replica = await this.db.client.$replica().user.findUnique({ where: { id } });
    if (replica && (!notBefore || replica.updatedAt >= notBefore)) return replica;
    return this.byIdOnPrimary(id);
  }

  create(tx: Tx, user: NewUser): Promise<User> {
    return tx.user.create({ data: user });
  }

  /** Inserts unless the email exists; null when it did. */
  async createIfAbsent(tx: Tx, user: NewUser): Promise<User | null> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO "users" ("id", "email", "display_name", "password_hash", "role")
      VALUES (${user.id}::uuid, ${user.email}, ${user.displayName}, ${user.passwordHash}, ${user.role}::"user_role")
      ON CONFLICT ("email") DO NOTHING RETURNING "id"`;
    return rows.length === 0 ? null : tx.user.findUniqueOrThrow({ where: { id: user.id } });
  }

  /** Locks the row for the rest of the transaction (orders concurrent edits and their events). */
  async lock(tx: Tx, id: string): Promise<User | null> {
    const rows = await tx.$queryRaw<
      { id: string }[]
    >`SELECT "id" FROM "users" WHERE "id" = ${id}::uuid FOR UPDATE`;
    return rows.length === 0 ? null : tx.user.findUnique({ where: { id } });
  }

  update(
    tx: Tx,
    id: string,
    data: Partial<Pick<User, 'email' | 'displayName' | 'passwordHash' | 'role'>>,
  ): Promise<User> {
    return tx.user.update({ where: { id }, data: { ...data, updatedAt: new Date() } });
  }

  /** Scrubs the PII and makes the account unusable; the row stays for the order history. */
  anonymise(tx: Tx, id: string, placeholderEmail: string): Promise<User> {
    const now = new Date();
    return tx.user.update({
      where: { id },
      data: {
        email: placeholderEmail,
        displayName: 'deleted user',
        passwordHash: '',
        status: 'deleted',
        deletedAt: now,
        updatedAt: now,
      },
    });
  }
}
