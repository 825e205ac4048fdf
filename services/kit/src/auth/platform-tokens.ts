import { JWKS_PATH, type RemoteJwksOptions, remoteJwks } from './jwks.ts';
import { createTokenVerifier, type TokenVerifier } from './tokens.ts';

/** The platform's access-token contract: users issues these tokens, every other service verifies them. */
export const PLATFORM_TOKEN_ISSUER = 'souk-users';
export const PLATFORM_TOKEN_AUDIENCE = 'souk';
export const PLATFORM_TOKEN_ALGORITHM = 'ES256';

/** Verifies platform access tokens against the keys users publishes at `<usersUrl>/.well-known/jwks.json`. */
export function usersTokenVerifier(usersUrl: string, options: RemoteJwksOptions = {}): TokenVerifier {
  return createTokenVerifier({
    keys: remoteJwks(new URL(JWKS_PATH, usersUrl), options),
    issuer: PLATFORM_TOKEN_ISSUER,
    audience: PLATFORM_TOKEN_AUDIENCE,
    algorithms: [PLATFORM_TOKEN_ALGORITHM],
  });
}
