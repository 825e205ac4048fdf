import type { Middleware } from './context.ts';

/**
 * One line per request, after the response status is final. Successful requests to `quiet`
 * routes (probes, scrapes) are logged at debug, or they would drown everything else.
 */
export function accessLog(quiet: string[] = []): Middleware {
  const quietRoutes = new Set(quiet);
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = ctx.status;
      const line = { method: ctx.method, path: ctx.path, route: ctx.state.route, status, duration_ms: ms };
      if (status >= 500) ctx.state.log.warn(line, 'request');
      else if (status < 400 && quietRoutes.has(ctx.state.route ?? '')) ctx.state.log.debug(line, 'request');
      else ctx.state.log.info(line, 'request');
    }
  };
}
