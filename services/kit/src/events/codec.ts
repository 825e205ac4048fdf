import type { IHeaders, Message } from 'kafkajs';
import type { EventContract } from './contracts/contract.ts';
import type { ContractRegistry } from './contracts/registry.ts';
import { type EventEnvelope, envelopeSchema, Header } from './envelope.ts';

/** Why a message cannot be read; such a message goes to the dead-letter topic without retries. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** Checks an envelope and its data against the registry; returns the parsed (normalised) envelope. */
export function validateEvent(registry: ContractRegistry, input: unknown): EventEnvelope {
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) throw new InvalidEventError(`invalid envelope: ${describe(envelope.error.issues)}`);
  const { type, version } = envelope.data;
  const contract = registry.get(type, version);
  if (!contract) throw new InvalidEventError(`unknown event ${type}@${version}`);
  if (contract.aggregate.aggregateType !== envelope.data.aggregateType) {
    throw new InvalidEventError(
      `${contract.key} belongs to aggregate ${contract.aggregate.aggregateType}, not ${envelope.data.aggregateType}`,
    );
  }
  const data = contract.data.safeParse(envelope.data.data);
  if (!data.success) throw new InvalidEventError(`${contract.key} data: ${describe(data.error.issues)}`);
  return { ...envelope.data, data: data.data };
}

export function contractOf(registry: ContractRegistry, event: EventEnvelope): EventContract {
  const contract = registry.get(event.type, event.version);
  if (!contract) throw new InvalidEventError(`unknown event ${event.type}@${event.version}`);
  return contract;
}

function describe(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** The Kafka message of an event: keyed by aggregate id, with type/version/id and trace context in headers. */
export function toMessage(event: EventEnvelope, headers: Record<string, string> = {}): Message {
  return {
    key: event.aggregateId,
    value: JSON.stringify(event),
    headers: {
      ...headers,
      [Header.eventId]: event.id,
      [Header.eventType]: event.type,
      [Header.eventVersion]: String(event.version),
      [Header.contentType]: 'application/json',
    },
  };
}

/** Reads a message's JSON value; throws InvalidEventError when it is not JSON at all. */
export function parseValue(value: Buffer | null): unknown {
  if (value === null) throw new InvalidEventError('empty message');
  try {
    return JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new InvalidEventError(`not JSON: ${(error as Error).message}`);
  }
}

/** Header values as strings (kafkajs hands them over as Buffers). */
export function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[key] = first.toString();
  }
  return out;
}
