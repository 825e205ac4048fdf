import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { Bulkhead } from '@souk/kit/events/bulkhead';

/** `Algorithm.Argon2id`: the enum is `const`, which `verbatimModuleSyntax` cannot import. */
const ARGON2ID = 2 as Algorithm.Argon2id;

/**
 * OWASP Password Storage Cheat Sheet, argon2id: 19 MiB of memory, 2 iterations, 1 lane. The
 * parameters are in each PHC string, so raising them later leaves existing hashes verifiable.
 */
export const ARGON2_PARAMS = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * libuv's thread pool also runs WebCrypto (the ES256 signature of every access token), DNS and fs
 * work. Argon2 jobs may take all but one of its threads, so a login that passed its verification is
 * never queued behind the verifications of the logins that came after it.
 */
const POOL = Number(process.env['UV_THREADPOOL_SIZE']) || 4;

/** Hashes and verifies passwords off the event loop (libuv's thread pool). */
export class PasswordHasher {
  #dummy: Promise<string> | undefined;
  readonly #pool = new Bulkhead(Math.max(1, POOL - 1));

  hash(password: string): Promise<string> {
    return this.#pool.run(() => hash(password, ARGON2_PARAMS));
  }

  async verify(phc: string, password: string): Promise<boolean> {
    if (!phc) return false;
    try {
      return await this.#pool.run(() => verify(phc, password));
    } catch {
      return false;
    }
  }

  /**
   * The same work as a real verify, against a hash nobody's password matches: an unknown account
   * then answers in as long as a wrong password, so timing does not tell which accounts exist.
   */
  async verifyDummy(password: string): Promise<false> {
    this.#dummy ??= this.hash(`souk-dummy-${Math.random()}`);
    const dummy = await this.#dummy;
    await this.#pool.run(() => verify(dummy, password)).catch(() => false);
    return false;
  }
}
