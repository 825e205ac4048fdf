import type { DenyList } from '@souk/kit/auth/deny-list';
import { InvalidTokenError, type Principal, type TokenVerifier } from '@souk/kit/auth/tokens';
import type { Sessions } from './sessions.ts';

export type Introspection =
  | { active: true; sub: string; roles: string[]; exp: number; jti: string }
  | { active: false };

/**
 * Whether an access token is good right now: signature by a published key, issuer, audience and
 * expiry (the verifier), not deny-listed, and its session family still live.
 */
export class TokenCheck {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly denyList: DenyList,
    private readonly sessions: Sessions,
  ) {}

  /** The principal of a live token; undefined when it is not one (why does not matter to callers). */
  async principal(token: string): Promise<Principal | undefined> {
    let principal: Principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) return undefined;
      throw error;
    }
    if (!(await this.sessionLive(principal))) return undefined;
    if (await this.denyList.isDenied(principal.jti)) return undefined;
    return principal;
  }

  async introspect(token: string): Promise<Introspection> {
    const p = await this.principal(token);
    return p ? { active: true, sub: p.sub, roles: p.roles, exp: p.exp, jti: p.jti } : { active: false };
  }

  sessionLive(principal: Principal): Promise<boolean> {
    const sid = principal.claims['sid'];
    return typeof sid === 'string' ? this.sessions.isActive(sid) : Promise.resolve(false);
  }
}
