import type { IncomingMessage } from 'node:http';
import { Problem, serviceUnavailable } from '../problem.ts';
import type { DenyList } from './deny-list.ts';
import { InvalidTokenError, KeysUnavailableError, type Principal, type TokenVerifier } from './tokens.ts';

/**
 * Browsers cannot set headers on a WebSocket, and a token in the URL leaks into access logs, so
 * the token travels as one of the offered subprotocols: `new WebSocket(url, [app, BEARER_PROTOCOL
 * + token])`. A JWT's characters are all valid in a subprotocol token. The server must answer with
 * the application protocol, never the bearer entry.
 */
export const BEARER_PROTOCOL = 'bearer.';

export interface OfferedProtocols {
  token: string | undefined;
  /** The offered protocols other than the bearer entry. */
  protocols: string[];
}

export function offeredProtocols(header: string | string[] | undefined): OfferedProtocols {
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  let token: string | undefined;
  const protocols: string[] = [];
  for (const part of raw.split(',')) {
    const p = part.trim();
    if (!p) continue;
    if (p.startsWith(BEARER_PROTOCOL)) token ??= p.slice(BEARER_PROTOCOL.length);
    else protocols.push(p);
  }
  return { token: token || undefined, protocols };
}

export interface AuthenticateUpgradeOptions {
  verifier: TokenVerifier;
  denyList?: DenyList;
}

/**
 * The WebSocket counterpart of `authenticate()`: verifies the token offered in
 * `Sec-WebSocket-Protocol` (signature, issuer, audience, expiry, deny-list). Throws a 401 Problem
 * (503 when the keys cannot be fetched), to be answered with `rejectUpgrade`.
 */
export async function authenticateUpgrade(
  req: IncomingMessage,
  options: AuthenticateUpgradeOptions,
): Promise<Principal> {
  const { token } = offeredProtocols(req.headers['sec-websocket-protocol']);
  if (!token) {
    throw new Problem(401, { detail: 'bearer token required', headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  let principal: Principal;
  try {
    principal = await options.verifier.verify(token);
  } catch (err) {
    if (err instanceof InvalidTokenError) throw invalid(err.message);
    if (err instanceof KeysUnavailableError)
      throw serviceUnavailable('cannot verify tokens right now', 5, err);
    throw err;
  }
  if (options.denyList && (await options.denyList.isDenied(principal.jti))) throw invalid('token revoked');
  return principal;
}

function invalid(detail: string): Problem {
  return new Problem(401, {
    detail,
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail}"` },
  });
}
