import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '../spans.ts';

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
      $allOperations({ model, operation, args, query }: OperationParams): Promise<unknown> {
        return withSpan(
          model ? `prisma ${model}.${operation}` : `prisma ${operation}`,
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
          () => query(args),
        );
      },
    },
  };
}
