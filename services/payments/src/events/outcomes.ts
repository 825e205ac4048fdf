import { appendToOutbox, type EventEnvelope, registry, uuidv7 } from '@souk/kit/events/index';
import type { Tx } from '../data/database.ts';

/**
 * Appends an outcome to the outbox, in the transaction of the ledger change it reports. Outcomes
 * are stored with their step; a step that comes again is answered with the same type and data
 * (a new event id, since the first one may already be on its way).
 */
export async function publishOutcome(
  tx: Tx,
  type: string,
  orderId: string,
  data: Record<string, unknown>,
): Promise<EventEnvelope> {
  const contract = registry.get(type, 1);
  if (!contract) throw new Error(`no contract ${type}@1`);
  const event = contract.create(orderId, data, { id: uuidv7() });
  await appendToOutbox(tx, event);
  return event;
}
