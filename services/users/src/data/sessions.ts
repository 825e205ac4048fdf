import type { SessionFamily } from '../../generated/client/client.ts';
import type { Tx, UsersDb } from './database.ts';

export interface NewRefreshToken {
  id: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
  accessJti: string;
  accessExpiresAt: Date;
}

/** A refresh token row joined with its family and account, as a rotation needs it. */
export interface LockedToken {
  id: string;
  familyId: string;
  userId: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  familyRevokedAt: Date | null;
  familyExpiresAt: Date;
}

/** A still-valid access token of a revoked session, to put on the deny-list. */
export interface LiveAccessToken {
  jti: string;
  expiresAt: Date;
}

/** Session families and their refresh tokens; always on the primary. */
export class SessionsRepository {
  constructor(private readonly db: UsersDb) {}

  family(id: string): Promise<SessionFamily | null> {
    return this.db.primary.sessionFamily.findUnique({ where: { id } });
  }

  /** A new family with its first refresh token: one statement, one round trip, autocommitted. */
  async createFamily(
    family: { id: string; userId: string; expiresAt: Date },
    first: NewRefreshToken,
  ): Promise<void> {
    await this.db.primary.$executeRaw`
      WITH "family" AS (
        INSERT INTO "session_families" ("id", "user_id", "expires_at")
        VALUES (${family.id}::uuid, ${family.userId}::uuid, ${family.expiresAt})
        RETURNING "id"
      )
      INSERT INTO "refresh_tokens" ("id", "family_id", "token_hash", "expires_at", "access_jti", "access_expires_at")
      SELECT ${first.id}::uuid, "family"."id", ${first.tokenHash}, ${first.expiresAt}, ${first.accessJti}::uuid,
             ${first.accessExpiresAt}
      FROM "family"`;
  }

  async addToken(tx: Tx, token: NewRefreshToken): Promise<void> {
    await tx.refreshToken.create({ data: token });
  }

  /** The token by hash, its row locked, so two concurrent refreshes of one token serialise. */
  async lockToken(tx: Tx, tokenHash: string): Promise<LockedToken | null> {
    const rows = await tx.$queryRaw<LockedToken[]>`
      SELECT t."id", t."family_id" AS "familyId", f."user_id" AS "userId", t."expires_at" AS "expiresAt",
             t."rotated_at" AS "rotatedAt", f."revoked_at" AS "familyRevokedAt", f."expires_at" AS "familyExpiresAt"
      FROM "refresh_tokens" t JOIN "session_families" f ON f."id" = t."family_id"
      WHERE t."token_hash" = ${tokenHash}
      FOR UPDATE OF t`;
    return rows[0] ?? null;
  }

  async markRotated(tx: Tx, tokenId: string): Promise<void> {
    await tx.refreshToken.update({ where: { id: tokenId }, data: { rotatedAt: new Date() } });
  }

  /**
   * Revokes families (those given, or all of a user's live ones but `except`) and returns the ids
   * of the families revoked now with their access tokens that have not expired yet.
   */
  async revoke(
    tx: Tx,
    target: { familyIds: string[] } | { userId: string; except?: string },
    reason: string,
  ): Promise<{ familyIds: string[]; live: LiveAccessToken[] }> {
    const families =
      'familyIds' in target
        ? await tx.$queryRaw<{ id: string }[]>`
            UPDATE "session_families" SET "revoked_at" = now(), "revoke_reason" = ${reason}
            WHERE "id" = ANY(${target.familyIds}::uuid[]) AND "revoked_at" IS NULL RETURNING "id"`
        : await tx.$queryRaw<{ id: string }[]>`
            UPDATE "session_families" SET "revoked_at" = now(), "revoke_reason" = ${reason}
            WHERE "user_id" = ${target.userId}::uuid AND "revoked_at" IS NULL
              AND "id" IS DISTINCT FROM ${target.except ?? null}::uuid
            RETURNING "id"`;
    const familyIds = families.map((f) => f.id);
    if (familyIds.length === 0) return { familyIds, live: [] };
    const live = await tx.$queryRaw<LiveAccessToken[]>`
      SELECT "access_jti"::text AS "jti", "access_expires_at" AS "expiresAt" FROM "refresh_tokens"
      WHERE "family_id" = ANY(${familyIds}::uuid[]) AND "access_expires_at" > now()`;
    return { familyIds, live };
  }
}
