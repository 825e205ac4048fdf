import type { JWK } from 'jose';
import type { UsersDb } from './database.ts';

export interface PublishedKey {
  kid: string;
  jwk: JWK;
  retiredAt: Date | null;
}

/** Public signing keys, shared by every replica (security-relevant: the primary only). */
export class SigningKeysRepository {
  constructor(private readonly db: UsersDb) {}

  /**
   * Makes `kid` the current key: inserts it if new, and retires every other current key, which
   * stays published for `graceSeconds` (the longest life of a token it signed, plus skew).
   */
  async makeCurrent(kid: string, alg: string, jwk: JWK, graceSeconds: number): Promise<void> {
    await this.db.primary.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('souk-users-signing-keys'))`;
      await tx.$executeRaw`
        INSERT INTO "signing_keys" ("kid", "alg", "public_jwk") VALUES (${kid}, ${alg}, ${JSON.stringify(jwk)}::jsonb)
        ON CONFLICT ("kid") DO UPDATE SET "retired_at" = NULL, "publish_until" = NULL`;
      await tx.$executeRaw`
        UPDATE "signing_keys" SET "retired_at" = now(), "publish_until" = now() + make_interval(secs => ${graceSeconds})
        WHERE "kid" <> ${kid} AND "retired_at" IS NULL`;
    });
  }

  /**
   * A replica still signing with a key another replica retired (during a rolling update) keeps it
   * published for as long as its tokens can live.
   */
  async keepPublished(kid: string, graceSeconds: number): Promise<void> {
    await this.db.primary.$executeRaw`
      UPDATE "signing_keys" SET "publish_until" = greatest("publish_until", now() + make_interval(secs => ${graceSeconds}))
      WHERE "kid" = ${kid} AND "retired_at" IS NOT NULL`;
  }

  async published(): Promise<PublishedKey[]> {
    const rows = await this.db.primary.$queryRaw<{ kid: string; jwk: JWK; retiredAt: Date | null }[]>`
      SELECT "kid", "public_jwk" AS "jwk", "retired_at" AS "retiredAt" FROM "signing_keys"
      WHERE "publish_until" IS NULL OR "publish_until" > now()
      ORDER BY "retired_at" DESC NULLS FIRST, "created_at" DESC`;
    return rows;
  }
}
