import { randomUUID } from 'node:crypto';
import type { UsersDb } from '../data/database.ts';
import type { UsersRepository } from '../data/users.ts';
import { userEvents } from '../events/user-events.ts';
import { normaliseEmail } from './email.ts';
import { passwordProblem } from './password-policy.ts';
import type { PasswordHasher } from './passwords.ts';

export type SeedOutcome = 'created' | 'promoted' | 'unchanged';

/**
 * Makes sure the account `email` exists and is an admin. Idempotent, and safe when several replicas
 * start at once (insert-if-absent). An existing account keeps its password: the seed only bootstraps.
 */
export async function seedAdmin(
  deps: { db: UsersDb; users: UsersRepository; hasher: PasswordHasher },
  email: string,
  password: string,
): Promise<SeedOutcome> {
  const normalised = normaliseEmail(email);
  if (!normalised) throw new Error('ADMIN_EMAIL is not a valid email address');
  const weak = passwordProblem(password, normalised);
  if (weak) throw new Error(`ADMIN_PASSWORD ${weak}`);
  const existing = await deps.users.byEmailOnPrimary(normalised);
  if (existing?.role === 'admin') return 'unchanged';
  const passwordHash = existing ? '' : await deps.hasher.hash(password);
  return deps.db.primary.$transaction(async (tx) => {
    const created = await deps.users.createIfAbsent(tx, {
      id: randomUUID(),
      email: normalised,
      displayName: 'Administrator',
      passwordHash,
      role: 'admin',
    });
    if (created && passwordHash) {
      await userEvents.registered(tx, created);
      return 'created';
    }
    const user = await tx.user.findUnique({ where: { email: normalised } });
    if (!user) throw new Error('admin account vanished while seeding');
    const locked = await deps.users.lock(tx, user.id);
    if (!locked || locked.role === 'admin') return 'unchanged';
    await deps.users.update(tx, user.id, { role: 'admin' });
    await userEvents.updated(tx, user.id, { role: 'admin' });
    return 'promoted';
  });
}
