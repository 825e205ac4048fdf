import { context } from '@opentelemetry/api';
import { injectContext } from '../spans.ts';
import { contractOf, validateEvent } from './codec.ts';
import { type ContractRegistry, registry as defaultRegistry } from './contracts/registry.ts';
import type { EventEnvelope } from './envelope.ts';

/**
 * What `appendToOutbox` needs from a Prisma interactive-transaction client (`prisma.$transaction(async (tx) => …)`),
 * or from anything else that runs SQL inside the caller's transaction.
 */
export interface SqlExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

export interface AppendOptions {
  registry?: ContractRegistry;
}

const INSERT = `INSERT INTO "souk_outbox" ("event_id", "topic", "aggregate_id", "key_hash", "event_type", "envelope", "headers")
SELECT e.event_id, e.topic, e.aggregate_id, hashtext(e.aggregate_id), e.event_type, e.envelope, $2::jsonb
FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, topic text, aggregate_id text, event_type text, envelope jsonb)`;

/**
 * Appends events to the outbox inside the caller's transaction, after the state change they describe,
 * so both commit or neither does. Each event is validated against its contract first. The active
 * trace context is stored with the rows, so the consumers' spans join the trace of this transaction.
 *
 * Append after updating the aggregate's row: that row lock orders concurrent writers of one aggregate,
 * and with it the outbox sequence the relay publishes in.
 */
export async function appendToOutbox(
  tx: SqlExecutor,
  events: EventEnvelope | readonly EventEnvelope[],
  options: AppendOptions = {},
): Promise<void> {
  const registry = options.registry ?? defaultRegistry;
  const list = Array.isArray(events) ? events : [events as EventEnvelope];
  if (list.length === 0) return;
  const rows = list.map((input) => {
    const event = validateEvent(registry, input);
    return {
      event_id: event.id,
      topic: contractOf(registry, event).aggregate.topic,
      aggregate_id: event.aggregateId,
      event_type: event.type,
      envelope: event,
    };
  });
  const headers = injectContext<Record<string, string>>({}, context.active());
  await tx.$executeRawUnsafe(INSERT, JSON.stringify(rows), JSON.stringify(headers));
}
