import { z } from 'zod';

/** An e-mail address as stored and compared: trimmed, lowercased, and a valid address. */
export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email('invalid email address'));

/** The normalised address, or undefined when it is not a valid one. */
export function normaliseEmail(input: string): string | undefined {
  const result = emailSchema.safeParse(input);
  return result.success ? result.data : undefined;
}

/** What a deleted account's address becomes: unique, never deliverable (RFC 2606 `.invalid`). */
export const deletedEmail = (userId: string): string => `deleted-${userId}@users.souk.invalid`;
