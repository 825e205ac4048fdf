import { z } from 'zod';

/**
 * What every event on the wire looks like. `id` is a UUIDv7 and doubles as the idempotency key
 * consumers deduplicate on; `data` is checked against the contract of `type`@`version`.
 */
export const envelopeSchema = z.object({
  id: z.uuidv7(),
  type: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'PascalCase event type'),
  version: z.int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  aggregateType: z.string().min(1),
  aggregateId: z.string().min(1),
  data: z.unknown(),
});

export type RawEnvelope = z.output<typeof envelopeSchema>;

export interface EventEnvelope<T extends string = string, V extends number = number, D = unknown> {
  id: string;
  type: T;
  version: V;
  occurredAt: string;
  aggregateType: string;
  aggregateId: string;
  data: D;
}

/** Kafka header names the kit writes and reads. */
export const Header = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  eventId: 'souk-event-id',
  eventType: 'souk-event-type',
  eventVersion: 'souk-event-version',
  contentType: 'content-type',
  dlqReason: 'souk-dlq-reason',
  dlqAttempts: 'souk-dlq-attempts',
  dlqTopic: 'souk-dlq-original-topic',
  dlqPartition: 'souk-dlq-original-partition',
  dlqOffset: 'souk-dlq-original-offset',
  dlqConsumer: 'souk-dlq-consumer-group',
  dlqAt: 'souk-dlq-at',
} as const;

/** The dead-letter topic of a topic. */
export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;
