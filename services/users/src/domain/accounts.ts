import { randomUUID } from 'node:crypto';
import type { RecentWrites } from '@souk/kit/db/recent-writes';
import { isUniqueViolation, type UsersDb } from '../data/database.ts';
import type { Role, User, UsersRepository } from '../data/users.ts';
import { type UserChanges, userEvents } from '../events/user-events.ts';
import { deletedEmail, normaliseEmail } from './email.ts';
import { DomainError, emailTaken, invalid } from './errors.ts';
import type { UsersMetrics } from './metrics.ts';
import { passwordProblem } from './password-policy.ts';
import type { PasswordHasher } from './passwords.ts';
import type { Sessions } from './sessions.ts';

export interface AccountsOptions {
  db: UsersDb;
  /** Remembers which accounts just changed, so their next reads see the change (kit read-your-writes). */
  recentWrites: RecentWrites;
  users: UsersRepository;
  sessions: Sessions;
  hasher: PasswordHasher;
  metrics: UsersMetrics;
}

export interface Registration {
  email: string;
  password: string;
  name: string;
  role?: Role;
}

export interface ProfileChanges {
  name?: string | undefined;
  email?: string | undefined;
  password?: string | undefined;
  currentPassword?: string | undefined;
}

const notFound = () => new DomainError('not_found', 'account not found');

/** Registration, profile changes and deletion, each with its event in the same transaction. */
export class Accounts {
  readonly #o: AccountsOptions;

  constructor(options: AccountsOptions) {
    this.#o = options;
  }

  async register(input: Registration): Promise<User> {
    const email = normaliseEmail(input.email);
    if (!email) throw invalid('email', 'invalid email address');
    const weak = passwordProblem(input.password, email);
    if (weak) throw invalid('password', `password ${weak}`);
    const passwordHash = await this.#o.hasher.hash(input.password);
    try {
      const user = await this.#o.db.primary.$transaction(async (tx) => {
        const created = await this.#o.users.create(tx, {
          id: randomUUID(),
          email,
          displayName: input.name,
          passwordHash,
          role: input.role ?? 'customer',
        });
        await userEvents.registered(tx, created);
        return created;
      });
      this.#o.metrics.registrations.inc();
      await this.#marked(user.id);
      return user;
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
  }

  /** The caller's own profile; a read that may be served by the replica. */
  async profile(userId: string): Promise<User> {
    const recent = await this.#o.recentWrites.recent(userId).catch(() => true);
    const user = recent
      ? await this.#o.users.byIdOnPrimary(userId)
      : await this.#o.users.byIdTolerant(userId);
    if (user?.status !== 'active') throw notFound();
    return user;
  }

  async update(userId: string, sessionId: string | undefined, input: ProfileChanges): Promise<User> {
    const { db, users, hasher, sessions } = this.#o;
    const current = await users.byIdOnPrimary(userId);
    if (current?.status !== 'active') throw notFound();
    const email = input.email === undefined ? undefined : normaliseEmail(input.email);
    if (input.email !== undefined && !email) throw invalid('email', 'invalid email address');
    let passwordHash: string | undefined;
    if (input.password !== undefined) {
      if (!input.currentPassword) throw invalid('currentPassword', 'required to change the password');
      const weak = passwordProblem(input.password, email ?? current.email);
      if (weak) throw invalid('password', `password ${weak}`);
      if (!(await hasher.verify(current.passwordHash, input.currentPassword))) {
        throw invalid('currentPassword', 'does not match the current password');
      }
      passwordHash = await hasher.hash(input.password);
    }
    const changes: UserChanges = {};
    if (email !== undefined && email !== current.email) changes.email = email;
    if (input.name !== undefined && input.name !== current.displayName) changes.displayName = input.name;
    if (Object.keys(changes).length === 0 && passwordHash === undefined) return current;
    try {
      const { user, revoked } = await db.primary.$transaction(async (tx) => {
        if (!(await users.lock(tx, userId))) throw notFound();
        const user = await users.update(tx, userId, {
          ...(changes.email ? { email: changes.email } : {}),
          ...(changes.displayName ? { displayName: changes.displayName } : {}),
          ...(passwordHash ? { passwordHash } : {}),
        });
        if (Object.keys(changes).length > 0) await userEvents.updated(tx, userId, changes);
        // A new password ends every other session: whoever knew the old one is signed out.
        const revoked = passwordHash
          ? await sessions.revokeUserSessions(tx, userId, 'password_changed', sessionId)
          : undefined;
        return { user, revoked };
      });
      await this.#marked(userId);
      if (revoked) await sessions.afterRevoke(revoked);
      return user;
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
  }

  /** Without Redis the mark is lost; the replica lags by milliseconds, so the write still succeeds. */
  async #marked(userId: string): Promise<void> {
    await this.#o.recentWrites.mark(userId).catch(() => {});
  }

  /** Anonymises the account (never a hard delete: orders keep their user id) and ends its sessions. */
  async delete(userId: string): Promise<void> {
    const { db, users, sessions } = this.#o;
    const revoked = await db.primary.$transaction(async (tx) => {
      const user = await users.lock(tx, userId);
      if (user?.status !== 'active') throw notFound();
      await users.anonymise(tx, userId, deletedEmail(userId));
      const revoked = await sessions.revokeUserSessions(tx, userId, 'account_deleted');
      await userEvents.deleted(tx, userId);
      return revoked;
    });
    this.#o.metrics.deletions.inc();
    await sessions.afterRevoke(revoked);
  }
}
