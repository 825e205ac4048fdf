import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('@souk/kit/db');

export type DbTarget = 'primary' | 'replica';

interface OperationParams {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => Promise<unknown>;
}

/**
 * A Prisma client extension that wraps every operation in a client span. It is installed on each
 * underlying client (primary, replica), so a span says where the query really ran.
 */
export function tracingExtension(target: DbTarget, database?: string) {
  return {
    name: `souk-tracing-${target}`,
    query: {
      async $allOperations({ model, operation, args, query }: OperationParams): Promise<unknown> {
        const name = model ? `${model}.${operation}` : operation;
        return tracer.startActiveSpan(
          `prisma ${name}`,
          {
            kind: SpanKind.CLIENT,
            attributes: {
              'db.system.name': 'postgresql',
              'db.operation.name': operation,
              ...(model ? { 'db.collection.name': model } : {}),
              ...(database ? { 'db.namespace': database } : {}),
              'souk.db.target': target,
            },
          },
          async (span) => {
            try {
              return await query(args);
            } catch (err) {
              span.recordException(err as Error);
              span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
              throw err;
            } finally {
              span.end();
            }
          },
        );
      },
    },
  };
}
