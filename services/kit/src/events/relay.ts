import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import pg from 'pg';
import { backoffDelay } from '../backoff.ts';
import type { Metrics } from '../metrics.ts';
import type { Shutdown } from '../shutdown.ts';
import { extractContext, injectContext } from '../spans.ts';
import { tracer } from '../tracing.ts';
import { Header } from './envelope.ts';
import { orderedProducer } from './kafka.ts';
import { type EventMetrics, eventMetrics } from './metrics.ts';
import { Wakeup } from './wakeup.ts';

/**
 * The outbox is split into this many shards by hash of aggregate id. A relay publishes only the
 * shards it holds a session advisory lock on, so two replicas never publish rows of one aggregate
 * at once, and each aggregate's rows leave in sequence order. Fixed: replicas of different
 * versions must agree on it.
 */

/** The steps of a relay round, the `stage` of souk_outbox_relay_errors_total. */
const RELAY_STAGES = ['connect', 'rebalance', 'fetch', 'publish', 'mark', 'wait'] as const;
export const OUTBOX_SHARDS = 16;
/**
 * Advisory-lock class ids (the first int of the two-int form): one per shard, one per live relay,
 * and one per shard a relay is polling (the outbox trigger then does not notify for it; the
 * migration `souk_outbox_quiet_wakeup` repeats this id).
 */
const SHARD_LOCK = 0x534f_4b31;
const MEMBER_LOCK = 0x534f_4b32;
const POLLING_LOCK = 0x534f_4b33;
/**
 * After a relay stops polling, writers that looked at its locks just before may still commit
 * without a notification: it polls this much longer to catch them.
 */
const POLLING_GRACE_MS = 250;
/** Batches drained back to back before the relay looks at its shards and the stop flag again. */
const DRAIN_ROUNDS = 20;

export interface OutboxRow {
  seq: string;
  topic: string;
  aggregateId: string;
  eventId: string;
  type: string;
  version: string;
  envelope: string;
  headers: Record<string, string>;
}

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OutboxRelayOptions {
  /** The service's primary. The relay keeps one connection of its own (locks, LISTEN). */
  databaseUrl: string;
  kafka: Kafka;
  /** Maps a contract's logical topic to the real one (e.g. a per-test prefix). */
  resolveTopic?: (topic: string) => string;
  /** Rows per publish. */
  batchSize?: number;
  /** Polls this often even without a notification, as a safety net. */
  pollIntervalMs?: number;
  /**
   * While events flow (one was published within `idleAfterMs`), the relay polls its shards this
   * often instead of relying on notifications, and writers to those shards skip their NOTIFY: each
   * one would make its transaction commit alone (see the migration `souk_outbox_quiet_wakeup`).
   */
  activePollMs?: number;
  /** Time without events after which the relay goes back to waiting for notifications. */
  idleAfterMs?: number;
  /**
   * After a wake-up, waits this long for more events before publishing, so they travel in one
   * produce request: consumers of the local mock cluster get one record batch per partition per
   * fetch, so events per batch bound their throughput.
   */
  lingerMs?: number;
  /** How often shards are rebalanced across the live relays. */
  rebalanceIntervalMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Sent rows older than this are deleted (every `pruneIntervalMs`). */
  retentionMs?: number;
  pruneIntervalMs?: number;
  /** Time `stop()` gives pending rows to go out before giving up. */
  flushTimeoutMs?: number;
  metrics?: Metrics;
  logger?: Log;
  /** Registers `stop()` in the 'relays' phase. */
  shutdown?: Shutdown;
  /** Seams to stop the relay between its steps, for crash tests. */
  hooks?: {
    beforePublish?(rows: OutboxRow[]): Promise<void> | void;
    afterPublish?(rows: OutboxRow[]): Promise<void> | void;
  };
}

const silent: Log = { info() {}, warn() {}, error() {} };

/**
 * Publishes the outbox to Kafka: it wakes on NOTIFY from the outbox trigger (and polls slowly as a
 * safety net), publishes pending rows of its shards in sequence order keyed by aggregate id, then
 * marks them sent. A failure leaves the rows pending and retries with backoff, so after a crash or a
 * broker outage an event goes out at least once; consumers deduplicate by event id.
 */
export class OutboxRelay {
  readonly #o: Required<
    Pick<
      OutboxRelayOptions,
      | 'batchSize'
      | 'pollIntervalMs'
      | 'rebalanceIntervalMs'
      | 'retentionMs'
      | 'pruneIntervalMs'
      | 'flushTimeoutMs'
      | 'resolveTopic'
      | 'lingerMs'
      | 'activePollMs'
      | 'idleAfterMs'
    >
  > &
    OutboxRelayOptions;
  readonly #metrics: EventMetrics;
  readonly #log: Log;
  readonly #wakeup = new Wakeup();
  readonly #producer: Producer;
  #client: pg.Client | undefined;
  #held = new Set<number>();
  /** Held shards whose polling lock this relay holds. */
  #polling = new Set<number>();
  #lastEvents = 0;
  #graceUntil = 0;
  #member = 0;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #flushDeadline = 0;
  #lastRebalance = 0;
  #lastPrune = 0;
  #lastPendingCount = 0;
  #producerConnected = false;

  constructor(options: OutboxRelayOptions) {
    this.#o = {
      batchSize: 500,
      pollIntervalMs: 1_000,
      lingerMs: 5,
      activePollMs: 10,
      idleAfterMs: 1_000,
      rebalanceIntervalMs: 1_000,
      retentionMs: 24 * 3600_000,
      pruneIntervalMs: 60_000,
      flushTimeoutMs: 10_000,
      resolveTopic: (topic) => topic,
      ...options,
    };
    this.#metrics = eventMetrics(options.metrics);
    // Series from the start, so the first failure shows in rate() (a counter born at 1 has no increase).
    for (const stage of RELAY_STAGES) this.#metrics.relayErrors.inc({ stage }, 0);
    this.#log = options.logger ?? silent;
    this.#producer = orderedProducer(options.kafka);
    options.shutdown?.register('outbox relay', () => this.stop(), {
      phase: 'relays',
      timeoutMs: this.#o.flushTimeoutMs + 2_000,
    });
  }

  /** The shards this relay currently publishes. */
  get shards(): number[] {
    return [...this.#held].sort((a, b) => a - b);
  }

  start(): void {
    if (this.#loop) throw new Error('outbox relay already started');
    this.#loop = this.#run();
  }

  /** Publishes what is pending (up to `flushTimeoutMs`), then releases its shards and disconnects. */
  async stop(): Promise<void> {
    if (!this.#loop) return;
    if (!this.#stopping) {
      this.#stopping = true;
      this.#flushDeadline = Date.now() + this.#o.flushTimeoutMs;
      this.#wakeup.poke();
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    try {
      while (true) {
        const flushing = this.#stopping;
        if (flushing && Date.now() > this.#flushDeadline) {
          this.#log.warn({ pending: this.#lastPendingCount }, 'outbox flush timed out');
          break;
        }
        let stage = 'connect';
        try {
          const client = await this.#connect();
          stage = 'rebalance';
          await this.#maintain(client);
          stage = 'fetch';
          const more =
            this.#held.size > 0 &&
            (await this.#drain(client, (next) => {
              stage = next;
            }));
          failures = 0;
          if (more) continue;
          if (flushing) break;
          stage = 'wait';
          const notified = await this.#rest(client);
          if (notified && this.#o.lingerMs > 0 && !this.#stopping)
            await new Promise((r) => setTimeout(r, this.#o.lingerMs));
        } catch (error) {
          failures++;
          this.#metrics.relayErrors.inc({ stage });
          this.#log.warn({ err: error, stage, failures }, 'outbox relay step failed');
          if (stage !== 'publish') {
            await this.#disconnectDb();
          }
          if (flushing && Date.now() > this.#flushDeadline) break;
          await this.#wakeup.wait(
            backoffDelay(failures - 1, {
              baseMs: this.#o.backoff?.initialMs ?? 100,
              maxMs: this.#o.backoff?.maxMs ?? 5_000,
            }),
          );
        }
      }
    } finally {
      await this.#disconnectDb();
      if (this.#producerConnected) await this.#producer.disconnect().catch(() => {});
      this.#metrics.relayShards.set(0);
    }
  }

  /**
   * Publishes batches back to back: while one batch is on its way to Kafka, the one before it is
   * marked sent and the next one fetched from past it. A batch is published only once the one
   * before it was acknowledged, so the order per aggregate holds. Resolves true when it stopped
   * after a full batch (there is probably more).
   */
  async #drain(client: pg.Client, setStage: (stage: string) => void): Promise<boolean> {
    let rows = await this.#fetch(client);
    if (rows.length > 0) this.#lastEvents = Date.now();
    let published: OutboxRow[] = [];
    let full = false;
    for (let round = 0; rows.length > 0; round++) {
      full = rows.length === this.#o.batchSize;
      const fetchMore = full && round < DRAIN_ROUNDS;
      await this.#o.hooks?.beforePublish?.(rows);
      setStage('publish');
      const toMark = published;
      const cursor = rows.at(-1)!.seq;
      const [sent, next] = await Promise.allSettled([
        this.#publish(rows),
        (async () => {
          if (toMark.length > 0) await this.#mark(client, toMark);
          return fetchMore ? this.#fetch(client, cursor) : [];
        })(),
      ]);
      if (sent.status === 'rejected') throw sent.reason;
      if (next.status === 'rejected') {
        setStage('mark');
        throw next.reason;
      }
      published = rows;
      await this.#o.hooks?.afterPublish?.(rows);
      rows = next.value;
    }
    setStage('mark');
    if (published.length > 0) await this.#mark(client, published);
    return full;
  }

  /**
   * Waits for the next round: a short poll while events flow (holding the polling locks of its
   * shards, so writers skip their NOTIFY), else a notification or the safety-net poll. Resolves
   * true when a notification ended the wait.
   */
  async #rest(client: pg.Client): Promise<boolean> {
    const now = Date.now();
    if (now - this.#lastEvents < this.#o.idleAfterMs) {
      const wanted = [...this.#held].filter((shard) => !this.#polling.has(shard));
      if (wanted.length > 0) {
        const { rows } = await client.query<{ shard: number }>(
          'SELECT shard FROM unnest($1::int[]) AS shard WHERE pg_try_advisory_lock($2::int, shard)',
          [wanted, POLLING_LOCK],
        );
        for (const { shard } of rows) this.#polling.add(shard);
      }
      await this.#wakeup.wait(this.#o.activePollMs);
      return false;
    }
    if (this.#polling.size > 0) {
      await client.query('SELECT pg_advisory_unlock($2::int, shard) FROM unnest($1::int[]) AS shard', [
        [...this.#polling],
        POLLING_LOCK,
      ]);
      this.#polling.clear();
      this.#graceUntil = now + POLLING_GRACE_MS;
    }
    if (now < this.#graceUntil) {
      await this.#wakeup.wait(this.#o.activePollMs);
      return false;
    }
    return this.#wakeup.wait(this.#o.pollIntervalMs);
  }

  async #mark(client: pg.Client, rows: OutboxRow[]): Promise<void> {
    await client.query('UPDATE "souk_outbox" SET "sent_at" = now() WHERE "seq" = ANY($1::bigint[])', [
      rows.map((r) => r.seq),
    ]);
  }

  async #connect(): Promise<pg.Client> {
    if (!this.#producerConnected) {
      await this.#producer.connect();
      this.#producerConnected = true;
    }
    if (this.#client) return this.#client;
    const client = new pg.Client({
      connectionString: this.#o.databaseUrl,
      application_name: 'souk-outbox-relay',
    });
    client.on('error', () => {
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => {});
    });
    client.on('notification', () => this.#wakeup.poke());
    await client.connect();
    try {
      await client.query('LISTEN souk_outbox');
      // Right after a burst of inserts the statistics still say the outbox is nearly empty, and the
      // planner would read every pending row (building each one's payload) to sort out the first
      // batch: 100 ms instead of 1 for 500 of 20,000 rows. This session only runs the relay's own
      // queries, all of which want the index in order.
      await client.query('SET enable_bitmapscan = off');
      // Marking rows sent need not wait for the WAL flush: a mark lost in a crash or failover only
      // means those rows go out again, which consumers absorb like any redelivery.
      await client.query('SET synchronous_commit = off');
      for (let i = 0; i < 5 && this.#member === 0; i++) {
        const candidate = 1 + Math.floor(Math.random() * 0x7fff_fffe);
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
          MEMBER_LOCK,
          candidate,
        ]);
        if (rows[0]?.ok) this.#member = candidate;
      }
      if (this.#member === 0) throw new Error('could not take a relay membership lock');
    } catch (error) {
      await client.end().catch(() => {});
      this.#member = 0;
      throw error;
    }
    this.#client = client;
    this.#held.clear();
    this.#polling.clear();
    this.#lastRebalance = 0;
    return client;
  }

  /** Closing the session releases every advisory lock it held, so another relay can take over. */
  async #disconnectDb(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#held.clear();
    this.#polling.clear();
    this.#member = 0;
    this.#metrics.relayShards.set(0);
    if (client) await client.end().catch(() => {});
  }

  async #maintain(client: pg.Client): Promise<void> {
    const now = Date.now();
    if (now - this.#lastRebalance >= this.#o.rebalanceIntervalMs) {
      this.#lastRebalance = now;
      await this.#rebalance(client);
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM "souk_outbox" WHERE "sent_at" IS NULL',
      );
      this.#lastPendingCount = Number(rows[0]?.n ?? 0);
      this.#metrics.outboxPending.set(this.#lastPendingCount);
    }
    if (now - this.#lastPrune >= this.#o.pruneIntervalMs && !this.#stopping) {
      this.#lastPrune = now;
      await client.query(
        `DELETE FROM "souk_outbox" WHERE "seq" IN (
           SELECT "seq" FROM "souk_outbox" WHERE "sent_at" < now() - make_interval(secs => $1) LIMIT 10000)`,
        [this.#o.retentionMs / 1000],
      );
    }
  }

  /**
   * Every live relay holds a membership lock; each aims at its fair share of the shards, giving up
   * extras (only between batches, when nothing of theirs is in flight) and taking free ones.
   */
  async #rebalance(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND classid = $1::int::oid AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [MEMBER_LOCK],
    );
    const members = Math.max(1, rows[0]?.n ?? 1);
    const fair = this.#stopping ? this.#held.size : Math.ceil(OUTBOX_SHARDS / members);
    for (const shard of [...this.#held].sort((a, b) => b - a)) {
      if (this.#held.size <= fair) break;
      await client.query('SELECT pg_advisory_unlock($1, $2)', [SHARD_LOCK, shard]);
      this.#held.delete(shard);
      if (this.#polling.delete(shard)) {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [POLLING_LOCK, shard]);
      }
    }
    const offset = this.#member % OUTBOX_SHARDS;
    for (let i = 0; i < OUTBOX_SHARDS && this.#held.size < fair; i++) {
      const shard = (offset + i) % OUTBOX_SHARDS;
      if (this.#held.has(shard)) continue;
      const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        SHARD_LOCK,
        shard,
      ]);
      if (res.rows[0]?.ok) this.#held.add(shard);
    }
    this.#metrics.relayShards.set(this.#held.size);
  }

  /** Pending rows of the held shards in sequence order, optionally only those after `after`. */
  async #fetch(client: pg.Client, after?: string): Promise<OutboxRow[]> {
    const params: unknown[] = [this.#o.batchSize];
    let where = '"sent_at" IS NULL';
    if (this.#held.size < OUTBOX_SHARDS) {
      params.push([...this.#held]);
      where += ` AND ("key_hash" & 2147483647) % ${OUTBOX_SHARDS} = ANY($${params.length}::int[])`;
    }
    if (after !== undefined) {
      params.push(after);
      where += ` AND "seq" > $${params.length}::bigint`;
    }
    const { rows } = await client.query<OutboxRow>(
      `SELECT "seq"::text AS "seq", "topic", "aggregate_id" AS "aggregateId", "event_id"::text AS "eventId",
              "event_type" AS "type", "envelope"->>'version' AS "version", "envelope"::text AS "envelope", "headers"
       FROM "souk_outbox" WHERE ${where}
       ORDER BY "souk_outbox"."seq" LIMIT $1`,
      params,
    );
    return rows;
  }

  async #publish(rows: OutboxRow[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    const spans: Span[] = [];
    for (const row of rows) {
      const topic = this.#o.resolveTopic(row.topic);
      const parent = extractContext(row.headers, context.active());
      const span = tracer().startSpan(
        `send ${topic}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.destination.name': topic,
            'messaging.operation.type': 'send',
            'messaging.message.id': row.eventId,
          },
        },
        parent,
      );
      spans.push(span);
      const message: Message = {
        key: row.aggregateId,
        value: row.envelope,
        headers: {
          ...injectContext<Record<string, string>>({}, trace.setSpan(parent, span)),
          [Header.eventId]: row.eventId,
          [Header.eventType]: row.type,
          [Header.eventVersion]: row.version,
          [Header.contentType]: 'application/json',
        },
      };
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      list.push(message);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      await this.#producer.sendBatch({ acks: -1, topicMessages });
    } catch (error) {
      for (const span of spans) {
        span.recordException(error as Error);
        span.end();
      }
      throw error;
    }
    for (const span of spans) span.end();
    for (const { topic, messages } of topicMessages) {
      this.#metrics.outboxPublished.inc({ topic }, messages.length);
    }
  }
}
