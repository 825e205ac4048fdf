import type { DefaultContext, Middleware as KoaMiddleware, ParameterizedContext } from 'koa';
import type { Logger } from './logger.ts';

/**
 * What the kit keeps on `ctx.state`. Other parts of the kit (auth, rate limiting) add their own
 * fields through declaration merging:
 *
 *   declare module '@souk/kit/context' { interface KitState { principal?: Principal } }
 */
export interface KitState {
  requestId: string;
  log: Logger;
  /** The route template (`/items/:id`) once a route matched; the metrics and span name use it. */
  route?: string;
  /** Aborted when the request times out or the client goes away; pass it to outgoing calls. */
  signal?: AbortSignal;
}

/** The `route` label and span name of requests that matched no route. */
export const UNMATCHED_ROUTE = 'unmatched';

export type KitContext = ParameterizedContext<KitState, DefaultContext>;
export type Middleware = KoaMiddleware<KitState, DefaultContext>;
