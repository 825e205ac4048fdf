import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { tracer, tracingRecords } from './tracing.ts';

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; the active one by default. */
  parent?: Context;
}

/**
 * Runs `fn` in a new active span; records an exception and an error status when it throws,
 * and always ends the span.
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const parent = options.parent ?? context.active();
  // A span that records nothing carries its parent's trace unchanged: running in the parent is the same.
  if (!tracingRecords()) return inContext(parent, () => fn(trace.getSpan(parent) ?? NO_SPAN));
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs `fn` in `ctx`, entering it only when it differs from the active context in what it carries:
 * the first entry starts the context manager, which from then on costs something on every promise
 * of the process, so a service that nobody traces never enters one.
 */
export function inContext<T>(ctx: Context, fn: () => T): T {
  const active = context.active();
  if (ctx === active || (isBare(ctx) && isBare(active))) return fn();
  return context.with(ctx, fn);
}

/** A context that carries no trace and no baggage, so nothing to propagate. */
function isBare(ctx: Context): boolean {
  const span = trace.getSpanContext(ctx);
  return (span === undefined || !isSpanContextValid(span)) && propagation.getBaggage(ctx) === undefined;
}

export function markFailed(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** A database call: `dbSpan('SELECT', { table: 'items' }, () => prisma.item.findMany())`. */
export function dbSpan<T>(
  operation: string,
  info: { table?: string; system?: string; statement?: string },
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return withSpan(
    info.table ? `${operation} ${info.table}` : operation,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': info.system ?? 'postgresql',
        'db.operation.name': operation,
        ...(info.table ? { 'db.collection.name': info.table } : {}),
        ...(info.statement ? { 'db.query.text': info.statement } : {}),
      },
    },
    fn,
  );
}

/** A cache call: `cacheSpan('GET', key, () => redis.get(key))`. Keys are recorded, values never. */
export function cacheSpan<T>(operation: string, key: string, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return withSpan(
    operation,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'redis', 'db.operation.name': operation, 'souk.cache.key': key },
    },
    fn,
  );
}

export type Headers = Record<string, string | Buffer | (string | Buffer)[] | undefined>;

/** Writes `traceparent` (and baggage) of the active context into a header carrier. */
export function injectContext<H extends Record<string, unknown>>(
  headers: H,
  ctx: Context = context.active(),
): H {
  propagation.inject(ctx, headers);
  return headers;
}

/** Reads the context a caller propagated in HTTP or Kafka headers. */
export function extractContext(headers: Headers, base: Context = context.active()): Context {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) flat[key.toLowerCase()] = first.toString();
  }
  return propagation.extract(base, flat);
}

/** Publishing to Kafka: the span's context goes into the returned headers of the message. */
export function kafkaProduceSpan<T>(
  topic: string,
  fn: (headers: Record<string, string>, span: Span) => Promise<T> | T,
): Promise<T> {
  return withSpan(
    `send ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.operation.type': 'send',
      },
    },
    (span) => fn(injectContext({}), span),
  );
}

/** Handling one Kafka message, as a child of the producer's span carried in its headers. */
export function kafkaConsumeSpan<T>(
  topic: string,
  message: { headers?: Headers; key?: string | Buffer | null; partition?: number; offset?: string },
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return withSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      parent: extractContext(message.headers ?? {}),
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.operation.type': 'process',
        ...(message.key != null ? { 'messaging.kafka.message.key': message.key.toString() } : {}),
        ...(message.partition !== undefined
          ? { 'messaging.destination.partition.id': String(message.partition) }
          : {}),
        ...(message.offset !== undefined ? { 'messaging.kafka.offset': Number(message.offset) } : {}),
      },
    },
    fn,
  );
}
