export const MIN_PASSWORD_LENGTH = 12;
/** Argon2 hashes any length, but a megabyte password would be a cheap way to burn CPU. */
export const MAX_PASSWORD_LENGTH = 256;

/** The most common passwords of at least 12 characters in public breach corpora. */
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678910',
  '123456789123',
  'qwertyuiopas',
  'qwerty123456',
  '1q2w3e4r5t6y',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'administrator',
  'changeme1234',
  'qwertyqwerty',
  'abc123456789',
  'abcdefghijkl',
  'aaaaaaaaaaaa',
  'football1234',
  'monkey123456',
  'superman1234',
  'trustno1trustno1',
]);

/**
 * Why `password` is not acceptable for the account `email` (already normalised), or undefined when
 * it is: NIST SP 800-63B style, length over composition rules, with a deny-list of common choices.
 */
export function passwordProblem(password: string, email: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const lowered = password.trim().toLowerCase();
  const local = email.split('@')[0] ?? '';
  if (lowered === email || (local.length >= 4 && lowered === local)) return 'must not be the email address';
  if (COMMON.has(lowered)) return 'is too common';
  if (new Set(password).size === 1) return 'must not repeat a single character';
  return undefined;
}
