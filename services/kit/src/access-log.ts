import { CLIENT_CLOSED_REQUEST } from './client-closed.ts';
import type { KitContext } from './context.ts';
import type { Logger } from './logger.ts';

/** `status`: what to record, when it is not `ctx.status` (499 for a client that left). */
export type LogRequest = (ctx: KitContext, route: string | undefined, ms: number, status?: number) => void;

/**
 * One line per request, after the response status is final. Successful requests to `quiet`
 * routes (probes, scrapes) are logged at debug, or they would drown everything else.
 */
export function accessLog(logger: Logger, quiet: string[] = []): LogRequest {
  const quietRoutes = new Set(quiet);
  return (ctx, route, ms, status = ctx.status) => {
    const line = {
      request_id: ctx.state.requestId,
      method: ctx.method,
      path: ctx.path,
      route,
      status,
      duration_ms: Math.round(ms * 1000) / 1000,
    };
    if (status >= 500) logger.warn(line, 'request');
    else if (status === CLIENT_CLOSED_REQUEST) logger.info(line, 'client closed request');
    else if (status < 400 && route !== undefined && quietRoutes.has(route)) logger.debug(line, 'request');
    else logger.info(line, 'request');
  };
}
