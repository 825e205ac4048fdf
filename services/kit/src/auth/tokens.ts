import { randomUUID } from 'node:crypto';
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import type { SigningAlgorithm, SigningKey } from './keys.ts';

/** Who a verified access token speaks for. */
export interface Principal {
  sub: string;
  roles: string[];
  jti: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  claims: JWTPayload;
}

export interface IssueOptions {
  sub: string;
  roles?: string[];
  /** Lifetime in seconds (default: the issuer's). */
  ttlSeconds?: number;
  claims?: Record<string, unknown>;
}

export interface IssuedToken {
  token: string;
  jti: string;
  expiresAt: number;
}

export interface TokenIssuerOptions {
  key: SigningKey;
  issuer: string;
  audience: string;
  ttlSeconds?: number;
}

/** Signs short-lived access tokens: `kid` in the header, `jti`/`iat`/`exp` and `roles` in the claims. */
export function createTokenIssuer(options: TokenIssuerOptions) {
  return {
    async issue(input: IssueOptions): Promise<IssuedToken> {
      const jti = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      const expiresAt = now + (input.ttlSeconds ?? options.ttlSeconds ?? 900);
      const token = await new SignJWT({ ...input.claims, roles: input.roles ?? [] })
        .setProtectedHeader({ alg: options.key.alg, kid: options.key.kid, typ: 'JWT' })
        .setSubject(input.sub)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setJti(jti)
        .setIssuedAt(now)
        .setExpirationTime(expiresAt)
        .sign(options.key.privateKey);
      return { token, jti, expiresAt };
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;

export interface TokenVerifierOptions {
  /** Key lookup by `kid`: `remoteJwks(url)` on services, `localJwks(keys)` where the keys are at hand. */
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms?: SigningAlgorithm[];
  clockToleranceSeconds?: number;
}

/** Why a token was refused; the message is safe to show. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/** The keys could not be fetched: the token may well be valid, so this is not the client's fault. */
export class KeysUnavailableError extends Error {
  override name = 'KeysUnavailableError';
}

export function createTokenVerifier(options: TokenVerifierOptions) {
  const algorithms = options.algorithms ?? ['EdDSA', 'ES256'];
  return {
    async verify(token: string): Promise<Principal> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, options.keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          clockTolerance: options.clockToleranceSeconds ?? 5,
          requiredClaims: ['sub', 'exp', 'jti'],
        }));
      } catch (err) {
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
          throw new KeysUnavailableError('signing keys unavailable', { cause: err });
        }
        throw new InvalidTokenError(describe(err), { cause: err });
      }
      const roles = Array.isArray(payload['roles'])
        ? payload['roles'].filter((r): r is string => typeof r === 'string')
        : [];
      return { sub: payload.sub!, roles, jti: payload.jti!, exp: payload.exp!, claims: payload };
    },
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim ${err.claim} invalid`;
  return 'token invalid';
}
