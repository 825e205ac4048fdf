/** Shared pieces of the event backbone tests: a database with the kit's event tables, and a test flow. */
import pg from 'pg';
import { type Database, openDatabase } from '../src/db/database.ts';
import { EventConsumer, type EventConsumerOptions, on } from '../src/events/consumer.ts';
import { ItemUpdated } from '../src/events/contracts/inventory.ts';
import { migrateEvents } from '../src/events/migrations.ts';
import { appendToOutbox } from '../src/events/outbox.ts';
import { PrismaClient } from './fixtures/generated/client/client.ts';

export type Db = Database<PrismaClient>;
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/** The kit's event tables plus `stock` (the state the test writes) and `effects` (what handlers did). */
export async function openEventsDb(url: string): Promise<Db> {
  await migrateEvents(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`
    CREATE TABLE IF NOT EXISTS stock (item_id text PRIMARY KEY, level int NOT NULL, version int NOT NULL);
    CREATE TABLE IF NOT EXISTS effects (
      n bigserial PRIMARY KEY, consumer text NOT NULL, event_id uuid NOT NULL, item_id text NOT NULL, seq int NOT NULL
    );`);
  await client.end();
  return openDatabase(PrismaClient, { url, poolSize: 12 });
}

/** A deterministic uuid per item number, so keys spread over partitions and shards. */
export const itemId = (n: number) => `0195f1c2-7a3b-7c00-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * One state change and its event in one transaction: bumps the item's version (the row lock that
 * orders writers of one item) and appends ItemUpdated carrying that version as `changes.quantity`.
 */
export async function writeChange(
  db: Db,
  item: number,
  beforeCommit?: (eventId: string) => void,
): Promise<{ id: string; seq: number }> {
  return db.primary.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<{ version: number }[]>(
      `INSERT INTO stock (item_id, level, version) VALUES ($1, 0, 1)
       ON CONFLICT (item_id) DO UPDATE SET version = stock.version + 1 RETURNING version`,
      itemId(item),
    );
    const seq = rows[0]!.version;
    const event = ItemUpdated.create(itemId(item), { itemId: itemId(item), changes: { quantity: seq } });
    await appendToOutbox(tx, event);
    beforeCommit?.(event.id);
    return { id: event.id, seq };
  });
}

/** A consumer of ItemUpdated whose effect is a row in `effects`, written through the inbox transaction. */
export function effectConsumer(
  db: Db,
  options: Omit<EventConsumerOptions<Tx>, 'db' | 'handlers'>,
  hooks: { fail?: (seq: number, attempt: number, item: string) => boolean } = {},
): EventConsumer<Tx> {
  return new EventConsumer<Tx>({
    db: db.primary,
    handlers: [
      on(ItemUpdated, async (event, tx: Tx, delivery) => {
        const seq = event.data.changes.quantity ?? -1;
        if (hooks.fail?.(seq, delivery.attempt, event.aggregateId))
          throw new Error(`handler refused seq ${seq}`);
        await recordEffect(tx, options.groupId, event);
      }),
    ],
    backoff: { initialMs: 20, maxMs: 200 },
    ...options,
  });
}

/** The effect of one ItemUpdated: a row in `effects`, its seq being the event's quantity. */
export function recordEffect(
  tx: Tx,
  consumer: string,
  event: { id: string; aggregateId: string; data: { changes: { quantity?: number | undefined } } },
): Promise<number> {
  return tx.$executeRawUnsafe(
    'INSERT INTO effects (consumer, event_id, item_id, seq) VALUES ($1, $2::uuid, $3, $4)',
    consumer,
    event.id,
    event.aggregateId,
    event.data.changes.quantity ?? -1,
  );
}

export interface EffectRow {
  event_id: string;
  item_id: string;
  seq: number;
}

export async function effects(db: Db, consumer: string): Promise<EffectRow[]> {
  return db.primary.$queryRawUnsafe<EffectRow[]>(
    'SELECT event_id::text, item_id, seq FROM effects WHERE consumer = $1 ORDER BY n',
    consumer,
  );
}

/** Asserts each item's effects came in strictly increasing version order; returns the problems. */
export function orderViolations(rows: EffectRow[]): string[] {
  const last = new Map<string, number>();
  const problems: string[] = [];
  for (const row of rows) {
    const prev = last.get(row.item_id) ?? 0;
    if (row.seq <= prev) problems.push(`${row.item_id}: ${row.seq} after ${prev}`);
    last.set(row.item_id, row.seq);
  }
  return problems;
}
