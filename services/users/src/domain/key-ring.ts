import { buildJwks, localJwks } from '@souk/kit/auth/jwks';
import type { SigningKey } from '@souk/kit/auth/keys';
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';
import type { SigningKeysRepository } from '../data/signing-keys.ts';

export interface KeyRingOptions {
  repository: SigningKeysRepository;
  /** The key this process signs with. */
  current: SigningKey;
  /** How long a retired key stays published: the access-token lifetime plus clock skew. */
  graceSeconds: number;
  /** How often the published set is re-read (other replicas may have rotated). */
  reloadMs?: number;
  /** An unknown kid re-reads the set at most this often, so forged kids cannot flood the database. */
  unknownKidCooldownMs?: number;
}

/**
 * The signing keys: the current one signs, every key still published verifies. Rotation is a new
 * JWT_PRIVATE_KEY: the replica starting with it makes it current and retires the previous key,
 * which stays in the JWKS until the last token it signed has expired.
 */
export class KeyRing {
  readonly #o: Required<KeyRingOptions>;
  #published: JWK[] = [];
  #verify: JWTVerifyGetKey = localJwks([]);
  #lastReload = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: KeyRingOptions) {
    this.#o = { reloadMs: 10_000, unknownKidCooldownMs: 2_000, ...options };
  }

  static async open(options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(options);
    const { kid, alg, publicJwk } = options.current;
    await options.repository.makeCurrent(kid, alg, publicJwk, options.graceSeconds);
    await ring.reload();
    ring.#timer = setInterval(() => {
      ring.reload().catch(() => {});
    }, ring.#o.reloadMs);
    ring.#timer.unref();
    return ring;
  }

  get current(): SigningKey {
    return this.#o.current;
  }

  /** The kids published right now, current first. */
  get kids(): string[] {
    return this.#published.map((k) => k.kid ?? '');
  }

  jwks(): JSONWebKeySet {
    return buildJwks(this.#published);
  }

  /** Key lookup for jose's jwtVerify. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (
      header.kid &&
      !this.#published.some((k) => k.kid === header.kid) &&
      Date.now() - this.#lastReload > this.#o.unknownKidCooldownMs
    ) {
      await this.reload();
    }
    return this.#verify(header, token);
  };

  async reload(): Promise<void> {
    this.#lastReload = Date.now();
    const { current, repository, graceSeconds } = this.#o;
    const rows = await repository.published();
    const mine = rows.find((r) => r.kid === current.kid);
    if (mine?.retiredAt) await repository.keepPublished(current.kid, graceSeconds);
    const keys: JWK[] = rows.map((r) => ({ ...r.jwk, kid: r.kid }));
    if (!keys.some((k) => k.kid === current.kid)) keys.unshift(current.publicJwk);
    this.#published = keys;
    this.#verify = localJwks(keys);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
