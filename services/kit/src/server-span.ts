import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type Middleware, UNMATCHED_ROUTE } from './context.ts';
import { extractContext } from './spans.ts';
import { tracer } from './tracing.ts';

/**
 * The server span of a request, child of the caller's `traceparent` when there is one. Every
 * later middleware, the handler and its outgoing calls run inside it.
 */
export function serverSpan(): Middleware {
  return async (ctx, next) => {
    const parent = extractContext(ctx.headers);
    const span = tracer().startSpan(
      `${ctx.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': ctx.method,
          'url.path': ctx.path,
          'url.scheme': ctx.protocol,
          'user_agent.original': ctx.get('User-Agent'),
          'souk.request_id': ctx.state.requestId,
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = ctx.state.route ?? UNMATCHED_ROUTE;
      span.updateName(`${ctx.method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', ctx.status);
      if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
