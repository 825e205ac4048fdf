import { appendToOutbox, UserDeleted, UserRegistered, UserUpdated } from '@souk/kit/events/index';
import type { Tx } from '../data/database.ts';
import type { User } from '../data/users.ts';

export interface UserChanges {
  email?: string;
  displayName?: string;
  role?: 'customer' | 'admin';
}

/**
 * The users aggregate's events, appended to the outbox inside the transaction of the change. They
 * carry only what consumers need: the address and name (notifications write to the user), the role.
 */
export const userEvents = {
  registered(tx: Tx, user: User): Promise<void> {
    return appendToOutbox(
      tx,
      UserRegistered.create(user.id, {
        userId: user.id,
        email: user.email,
        displayName: user.displayName,
        role: user.role,
        registeredAt: user.createdAt.toISOString(),
      }),
    );
  },
  updated(tx: Tx, userId: string, changes: UserChanges): Promise<void> {
    return appendToOutbox(tx, UserUpdated.create(userId, { userId, changes }));
  },
  deleted(tx: Tx, userId: string): Promise<void> {
    return appendToOutbox(tx, UserDeleted.create(userId, { userId }));
  },
};
