import { context, type Span, trace } from '@opentelemetry/api';
import type { LogRequest } from './access-log.ts';
import { CLIENT_CLOSED_REQUEST, clientLeft, isClientClosed } from './client-closed.ts';
import { type KitContext, type Middleware, UNMATCHED_ROUTE } from './context.ts';
import { answerError } from './error-handler.ts';
import type { ObserveRequest } from './http-metrics.ts';
import type { Logger } from './logger.ts';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.ts';
import { RequestState } from './request-state.ts';
import { setSecurityHeaders } from './security-headers.ts';
import { endServerSpan, startServerSpan } from './server-span.ts';

export interface EnvelopeOptions {
  logger: Logger;
  observe: ObserveRequest;
  log: LogRequest;
}

/**
 * What the kit does around every request, as one middleware so a request pays for one async
 * frame rather than one per concern: the request id (echoed, on `ctx.state` with a logger that
 * carries it), security headers, the server span that the rest of the request runs in,
 * problem+json for whatever the rest threw, and once the status is final the duration metric,
 * the access line and the end of the span. A request whose client left before the answer is
 * recorded as 499, and what its abandonment threw (the aborted signal, a reset connection) is no
 * error of the service.
 */
export function requestEnvelope({ logger, observe, log }: EnvelopeOptions): Middleware {
  async function serve(
    ctx: KitContext,
    next: () => Promise<unknown>,
    span: Span | undefined,
    started: number,
  ) {
    try {
      await next();
    } catch (error) {
      if (!isClientClosed(ctx, error)) answerError(ctx, error);
    } finally {
      const ms = performance.now() - started;
      const route = ctx.state.route;
      const status = clientLeft(ctx) ? CLIENT_CLOSED_REQUEST : ctx.status;
      observe(ctx.method, route ?? UNMATCHED_ROUTE, status, ms / 1000);
      log(ctx, route, ms, status);
      if (span) endServerSpan(span, ctx, route ?? UNMATCHED_ROUTE, status);
    }
  }

  return (ctx, next) => {
    const started = performance.now();
    const id = requestIdOf(ctx.req.headers['x-request-id']);
    ctx.state = new RequestState(logger, id);
    ctx.res.setHeader(REQUEST_ID_HEADER, id);
    setSecurityHeaders(ctx.res);
    const traced = startServerSpan(ctx);
    if (!traced) return serve(ctx, next, undefined, started);
    const { span, parent } = traced;
    return context.with(trace.setSpan(parent, span), serve, undefined, ctx, next, span, started);
  };
}
