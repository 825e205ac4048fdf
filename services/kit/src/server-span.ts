import type { IncomingHttpHeaders } from 'node:http';
import { type Context, context, propagation, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { KitContext } from './context.ts';
import { tracer, tracingRecords } from './tracing.ts';

/**
 * The server span of a request, child of the caller's `traceparent` when there is one. The
 * caller runs the rest of the request inside it. Attributes are only computed for a span that
 * records (a service without an exporter still propagates the caller's trace id). Without an
 * exporter and without a caller's trace context there is nothing to carry, and no span.
 */
export function startServerSpan(ctx: KitContext): { span: Span; parent: Context } | undefined {
  const caller = callerContext(ctx.req.headers);
  if (!caller && !tracingRecords()) return undefined;
  const parent = caller ?? context.active();
  const span = tracer().startSpan(ctx.method, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      'http.request.method': ctx.method,
      'url.path': ctx.path,
      'url.scheme': ctx.protocol,
      'user_agent.original': ctx.get('User-Agent'),
      'souk.request_id': ctx.state.requestId,
    });
  }
  return { span, parent };
}

export function endServerSpan(span: Span, ctx: KitContext, route: string, status = ctx.status): void {
  if (span.isRecording()) {
    span.updateName(`${ctx.method} ${route}`);
    span.setAttribute('http.route', route);
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Node lowercases incoming header names, which is what the propagators look up. */
function callerContext(headers: IncomingHttpHeaders): Context | undefined {
  for (const field of propagation.fields()) {
    if (headers[field] !== undefined) return propagation.extract(context.active(), headers);
  }
  return undefined;
}
