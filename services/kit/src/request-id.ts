import { randomUUID } from 'node:crypto';
import type { Middleware } from './context.ts';
import type { Logger } from './logger.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const SANE = /^[\w.:-]{1,128}$/;

/**
 * Takes the caller's X-Request-Id when it looks like an id (a proxy or another service set it),
 * otherwise makes one; echoes it and gives the request a child logger carrying it.
 */
export function requestId(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get(REQUEST_ID_HEADER);
    const id = SANE.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.state.log = logger.child({ request_id: id });
    ctx.set(REQUEST_ID_HEADER, id);
    await next();
  };
}
