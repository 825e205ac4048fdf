import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Offsets, Producer } from 'kafkajs';
import { backoffDelay, sleep } from '../backoff.ts';
import type { Metrics } from '../metrics.ts';
import type { Shutdown } from '../shutdown.ts';
import { kafkaConsumeSpan } from '../spans.ts';
import { transientErrorCode } from '../transient-error.ts';
import { Bulkhead } from './bulkhead.ts';
import { headerStrings, InvalidEventError, parseValue, validateEvent } from './codec.ts';
import type { EventContract, EventOf } from './contracts/contract.ts';
import { type ContractRegistry, registry as defaultRegistry } from './contracts/registry.ts';
import { deadLetter } from './dead-letter.ts';
import { type EventEnvelope, envelopeSchema, Header } from './envelope.ts';
import { orderedProducer } from './kafka.ts';
import { type EventMetrics, eventMetrics } from './metrics.ts';
import type { SqlExecutor } from './outbox.ts';
import { PartitionBuffer } from './partition-buffer.ts';

/** What the consumer needs of a Prisma client: interactive transactions and raw SQL. */
export interface TransactionRunner<Tx extends SqlExecutor> extends SqlExecutor {
  $transaction<R>(
    fn: (tx: Tx) => Promise<R>,
    options?: { maxWait?: number; timeout?: number },
  ): PromiseLike<R>;
}

export interface DeliveryInfo {
  topic: string;
  partition: number;
  offset: string;
  /** 1 on the first try; tries a dependency failed (see `transientErrorCode`) do not count. */
  attempt: number;
  headers: Record<string, string>;
}

export interface EventHandler<Tx> {
  contract: EventContract;
  /** Calls of this handler running at once (the bulkhead). */
  concurrency: number | undefined;
  handle(event: EventEnvelope, tx: Tx, delivery: DeliveryInfo): Promise<void>;
  /** Locks the rows a chunk's handler calls will lock, in one global order (see `on`). */
  prepare: ((events: EventEnvelope[], tx: Tx) => Promise<void>) | undefined;
}

/**
 * Declares the handler of one event contract. It runs inside the transaction that records the
 * event in the inbox: make every effect through `tx`, and the effect happens once however often
 * the event is delivered. Throwing rolls both back; the event is retried, then dead-lettered.
 *
 * A handler that locks rows other keys' events lock too (stock of shared items, a user's counter)
 * gives `prepare`: it runs first in a chunk's transaction with all the chunk's events and locks
 * every row their handler calls will lock, in one order shared by every transaction that locks
 * several of them (ids sorted, say). Without it, a chunk locks one event's rows after another's,
 * and two chunks running at once can take shared rows in opposite orders and deadlock.
 */
export function on<C extends EventContract, Tx>(
  contract: C,
  handle: (event: EventOf<C>, tx: Tx, delivery: DeliveryInfo) => Promise<void>,
  options: { concurrency?: number; prepare?: (events: EventOf<C>[], tx: Tx) => Promise<void> } = {},
): EventHandler<Tx> {
  return {
    contract,
    concurrency: options.concurrency,
    handle: handle as (event: EventEnvelope, tx: Tx, delivery: DeliveryInfo) => Promise<void>,
    prepare: options.prepare as ((events: EventEnvelope[], tx: Tx) => Promise<void>) | undefined,
  };
}

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EventConsumerOptions<Tx extends SqlExecutor> {
  kafka: Kafka;
  /** The Kafka consumer group, and the inbox's consumer name: one per consuming service (and purpose). */
  groupId: string;
  db: TransactionRunner<Tx>;
  handlers: EventHandler<Tx>[];
  registry?: ContractRegistry;
  resolveTopic?: (topic: string) => string;
  /** Tries before a failing event goes to the dead-letter topic. */
  maxAttempts?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * Pauses between tries of an event that failed for a dependency's sake (database unreachable,
   * connection lost, failover, deadlock, serialization or lock timeout; a cache invalidation Redis
   * could not take: see `transientErrorCode`). Such tries do not count toward `maxAttempts`: the
   * event, and its partition behind it, waits until the dependency is back (default 100 ms doubling
   * up to 5 s, with jitter).
   */
  transientBackoff?: { initialMs?: number; maxMs?: number };
  /** Default bulkhead of a handler that sets none: its transactions in flight at once. */
  concurrency?: number;
  /** Events of distinct keys handled in one transaction (1: a transaction per event). */
  maxEventsPerTransaction?: number;
  partitionsConsumedConcurrently?: number;
  /**
   * Messages of one partition fetched ahead of their handlers (default 1000). The next fetch goes
   * out while handlers run, and what arrived meanwhile is handled in one round of transactions; when
   * this many wait, fetching that partition waits too.
   */
  maxBufferedPerPartition?: number;
  /**
   * How often the offsets of handled events are committed (default 1000 ms). A crash or rebalance
   * redelivers what was handled since, which the inbox skips; a shorter interval only means more
   * commit requests.
   */
  commitIntervalMs?: number;
  /** Interactive transaction timeout for one handler call. */
  transactionTimeoutMs?: number;
  /** Where a new group starts; true by default, so a new service sees the history still retained. */
  fromBeginning?: boolean;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /**
   * How long the broker may hold a fetch that finds no new data (default 20 ms). A real broker
   * answers such a long poll as soon as data arrives, so there a low value only costs idle polling:
   * one small fetch per broker per interval and consumer (50/s at 20 ms), cheap next to the traffic
   * it waits for. The librdkafka mock cluster used in development and tests answers only when the
   * wait expires, so every event that arrives while the consumer is caught up waits up to this long:
   * it bounds the tail of produce→consume latency there. Raise it where idle fetches matter more
   * than latency on the mock.
   */
  maxWaitTimeInMs?: number;
  inboxRetentionMs?: number;
  /** Called after each event's outcome is final (its transaction committed, or it was dead-lettered). */
  onOutcome?: (
    outcome: ConsumeOutcome,
    event: { id?: string; type: string },
    delivery: Omit<DeliveryInfo, 'attempt'>,
  ) => void;
  metrics?: Metrics;
  logger?: Log;
  /** Registers `stop()` in the 'consumers' phase. */
  shutdown?: Shutdown;
}

export type ConsumeOutcome = 'processed' | 'duplicate' | 'ignored' | 'invalid' | 'dead_lettered';

const silent: Log = { info() {}, warn() {}, error() {} };

interface HandlerEntry<Tx> {
  handler: EventHandler<Tx>;
  bulkhead: Bulkhead;
}

/** A fetched message waiting for its handler, with its partition's high watermark at fetch time. */
interface Fetched {
  message: KafkaMessage;
  highWatermark: string;
}

/** A partition this consumer was given: its buffer, and the offset up to which events are handled. */
interface PartitionState {
  topic: string;
  partition: number;
  buffer: PartitionBuffer<Fetched>;
  /** The offset after the last handled message (what to commit), once one was handled. */
  handled: string | undefined;
  committed: string | undefined;
  failures: number;
}

/** A decoded, valid event of one message, on its way through a handler. */
interface Delivery<Tx> {
  index: number;
  topic: string;
  partition: number;
  message: KafkaMessage;
  headers: Record<string, string>;
  event: EventEnvelope;
  entry: HandlerEntry<Tx>;
  /** Failed tries so far. */
  failures: number;
  /** The consumer's generation when the message was taken up: a rejoin since ends its retries. */
  generation: number;
}

const INBOX_INSERT = `INSERT INTO "souk_inbox" ("consumer", "event_id", "event_type", "topic", "partition", "offset")
VALUES ($1, $2::uuid, $3, $4, $5, $6::bigint) ON CONFLICT DO NOTHING`;

/** The inbox rows of a chunk in one statement; fewer rows inserted than given means some came before. */
const INBOX_INSERT_MANY = `INSERT INTO "souk_inbox" ("consumer", "event_id", "event_type", "topic", "partition", "offset")
SELECT $1, e.event_id, e.event_type, e.topic, e.partition, e.offset
FROM jsonb_to_recordset($2::jsonb) AS e(event_id uuid, event_type text, topic text, partition int, "offset" bigint)
ON CONFLICT DO NOTHING`;

/** Rolls back a chunk that holds an event already in the inbox: its events then go one by one. */
class SeenBefore extends Error {}

/** Times a chunk rolled back by a deadlock or serialization failure runs again before going one by one. */
const CHUNK_CONFLICT_RETRIES = 3;

/** The transient codes (see `transientErrorCode`) of a deadlock or serialization failure. */
const LOCK_CONFLICTS = new Set(['40P01', '40001', 'P2034', 'TransactionWriteConflict']);

/**
 * A consumer group whose handlers take effect exactly once per event: each handler runs in one
 * transaction with the insert of the event id into the inbox, and an id already there is skipped.
 * Messages of one key are handled in order; different keys of a batch in parallel, bounded per
 * handler. A failing event is retried with backoff, then goes to `<topic>.dlq` with the reason in its
 * headers, and its partition moves on. An invalid event goes there at once.
 */
export class EventConsumer<Tx extends SqlExecutor> {
  readonly #o: EventConsumerOptions<Tx>;
  readonly #registry: ContractRegistry;
  readonly #metrics: EventMetrics;
  readonly #log: Log;
  readonly #handlers = new Map<string, HandlerEntry<Tx>>();
  readonly #handledTypes = new Set<string>();
  readonly #topics: string[];
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #partitions = new Map<string, PartitionState>();
  /** Turns still running for partitions this consumer no longer has; stop() waits for them too. */
  readonly #retiring = new Set<Promise<void>>();
  #joined: Promise<void>;
  #started = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  /** Bumped by each (re)join: kafkajs fetches again from the committed offsets, so what waits is dropped. */
  #generation = 0;
  /** Aborted by stop(): ends the waits between tries of events held up by the database. */
  readonly #stopSignal = new AbortController();
  #lastCommit = 0;
  #pruneTimer: NodeJS.Timeout | undefined;
  #commitTimer: NodeJS.Timeout | undefined;

  constructor(options: EventConsumerOptions<Tx>) {
    this.#o = options;
    this.#registry = options.registry ?? defaultRegistry;
    this.#metrics = eventMetrics(options.metrics);
    this.#log = options.logger ?? silent;
    const resolve = options.resolveTopic ?? ((t: string) => t);
    for (const handler of options.handlers) {
      const key = handler.contract.key;
      if (this.#handlers.has(key)) throw new Error(`two handlers for ${key} in consumer ${options.groupId}`);
      this.#handlers.set(key, {
        handler,
        bulkhead: new Bulkhead(handler.concurrency ?? options.concurrency ?? 8),
      });
      this.#handledTypes.add(handler.contract.type);
      // At zero from the start, so the dashboards' rates and the alert on them have data before the first one.
      this.#metrics.deadLettered.inc(
        { topic: resolve(handler.contract.aggregate.topic), type: handler.contract.type },
        0,
      );
    }
    this.#topics = [...new Set(options.handlers.map((h) => resolve(h.contract.aggregate.topic)))];
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeout ?? 6_000,
      heartbeatInterval: options.heartbeatInterval ?? 1_000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 20,
      allowAutoTopicCreation: true,
    });
    this.#producer = orderedProducer(options.kafka);
    this.#joined = new Promise((resolve) => {
      this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
        this.#rejoined(payload.memberAssignment);
        resolve();
      });
    });
    options.shutdown?.register(`event consumer ${options.groupId}`, () => this.stop(), {
      phase: 'consumers',
    });
  }

  get topics(): readonly string[] {
    return this.#topics;
  }

  /** Resolves once the consumer has joined its group (the first join of a new group takes seconds). */
  joined(): Promise<void> {
    return this.#joined;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('event consumer already started');
    this.#started = true;
    await this.#producer.connect();
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: this.#topics, fromBeginning: this.#o.fromBeginning ?? true });
    await this.#consumer.run({
      eachBatchAutoResolve: false,
      // Offsets are committed here once the handlers are done, not when kafkajs hands a batch over.
      autoCommit: false,
      partitionsConsumedConcurrently: this.#o.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    const retention = this.#o.inboxRetentionMs ?? 7 * 24 * 3600_000;
    this.#pruneTimer = setInterval(() => {
      this.#o.db
        .$executeRawUnsafe(
          `DELETE FROM "souk_inbox" WHERE "consumer" = $1 AND "processed_at" < now() - make_interval(secs => $2)`,
          this.#o.groupId,
          retention / 1000,
        )
        .then(undefined, (error: unknown) => this.#log.warn({ err: error }, 'inbox prune failed'));
    }, 600_000);
    this.#pruneTimer.unref();
    const interval = this.#o.commitIntervalMs ?? 1_000;
    // While batches flow, commits ride on them (see #eachBatch); this covers a quiet partition.
    this.#commitTimer = setInterval(() => {
      this.#commitDue((offsets) => this.#consumer.commitOffsets(flatten(offsets))).catch((error: unknown) =>
        this.#log.warn({ err: error }, 'offset commit failed'),
      );
    }, interval);
    this.#commitTimer.unref();
  }

  /**
   * Finishes the handler rounds under way, commits the offsets of what was handled, and leaves the
   * group; fetched events not handled yet come again to whoever takes their partitions.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      this.#stopSignal.abort(new Error('event consumer stopping'));
      clearInterval(this.#pruneTimer);
      clearInterval(this.#commitTimer);
      await Promise.all([...this.#partitions.values()].map((p) => p.buffer.idle).concat([...this.#retiring]));
      await this.#commitDue((offsets) => this.#consumer.commitOffsets(flatten(offsets)), true).catch(
        (error: unknown) => this.#log.warn({ err: error }, 'offset commit failed'),
      );
      await this.#consumer.stop().catch(() => {});
      await this.#consumer.disconnect().catch(() => {});
      await this.#producer.disconnect().catch(() => {});
    })();
    return this.#stopped;
  }

  /** After a (re)join kafkajs fetches from the committed offsets again: what waits is dropped. */
  #rejoined(assignment: Record<string, number[]>): void {
    this.#generation++;
    for (const [key, state] of this.#partitions) {
      state.buffer.clear();
      state.committed = undefined;
      if (!assignment[state.topic]?.includes(state.partition)) {
        state.handled = undefined;
        this.#partitions.delete(key);
        const idle = state.buffer.idle;
        this.#retiring.add(idle);
        void idle.finally(() => this.#retiring.delete(idle));
      }
    }
  }

  #partition(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`;
    let state = this.#partitions.get(key);
    if (!state) {
      state = {
        topic,
        partition,
        buffer: new PartitionBuffer(),
        handled: undefined,
        committed: undefined,
        failures: 0,
      };
      this.#partitions.set(key, state);
    }
    return state;
  }

  /**
   * Hands a fetched batch to its partition's buffer and returns, so kafkajs fetches the next one
   * while handlers run. Commits the offsets handled so far when due: from here a failed commit
   * reaches kafkajs, which rejoins the group (and fetches again from the last committed offsets).
   */
  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const messages = batch.messages;
    if (messages.length === 0 || this.#stopping) return;
    const generation = this.#generation;
    const live = () => isRunning() && !isStale() && !this.#stopping && generation === this.#generation;
    await this.#commitDue((offsets) => commitOffsetsIfNecessary(offsets));
    const state = this.#partition(batch.topic, batch.partition);
    const limit = this.#o.maxBufferedPerPartition ?? 1_000;
    while (state.buffer.size >= limit && live()) {
      await state.buffer.waitForSpace(limit, 1_000);
      await heartbeat().catch(() => {});
    }
    if (!live()) return;
    state.buffer.push(messages.map((message) => ({ message, highWatermark: batch.highWatermark })));
    // Only moves the fetch position: what is committed is what the handlers finished.
    resolveOffset((messages.at(-1) as KafkaMessage).offset);
    // Also set as handlers finish; set here too, the lag shows a partition held up by its handlers.
    const from = state.handled ?? (messages[0] as KafkaMessage).offset;
    this.#metrics.consumerLag.set(
      { topic: state.topic, partition: String(state.partition) },
      Math.max(0, Number(batch.highWatermark) - Number(from)),
    );
    this.#drain(state);
  }

  #drain(state: PartitionState): void {
    const limit = this.#o.maxBufferedPerPartition ?? 1_000;
    state.buffer.drain(
      limit,
      (items) => this.#turn(state, items),
      () => !this.#stopping,
    );
  }

  /**
   * Handles a turn's messages and records how far the partition got. If something other than a
   * handler failed (a dead letter that could not be sent, say), the unfinished messages go back to
   * the front of the buffer and are tried again after a pause.
   */
  async #turn(state: PartitionState, items: Fetched[]): Promise<void> {
    const generation = this.#generation;
    const live = () => !this.#stopping && generation === this.#generation;
    const done = new Array<boolean>(items.length).fill(false);
    let failed: unknown;
    try {
      await this.#handleMessages(state.topic, state.partition, items, done, live);
    } catch (error) {
      failed = error;
    }
    let last = -1;
    while (last + 1 < items.length && done[last + 1]) last++;
    if (last >= 0 && generation === this.#generation) {
      const { message, highWatermark } = items[last] as Fetched;
      state.handled = (BigInt(message.offset) + 1n).toString();
      const lag = Number(highWatermark) - Number(message.offset) - 1;
      this.#metrics.consumerLag.set(
        { topic: state.topic, partition: String(state.partition) },
        Math.max(0, lag),
      );
    }
    if (failed === undefined) {
      state.failures = 0;
      return;
    }
    state.failures++;
    this.#log.warn(
      { err: failed, topic: state.topic, partition: state.partition, failures: state.failures },
      'event batch failed',
    );
    if (!live()) return;
    state.buffer.requeue(items.slice(last + 1));
    await sleep(
      backoffDelay(state.failures - 1, {
        baseMs: this.#o.backoff?.initialMs ?? 100,
        maxMs: this.#o.backoff?.maxMs ?? 5_000,
      }),
    );
  }

  /** Commits the handled offsets not committed yet, when the interval has passed (or `force`). */
  async #commitDue(commit: (offsets: Offsets) => Promise<void>, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.#lastCommit < (this.#o.commitIntervalMs ?? 1_000)) return;
    this.#lastCommit = now;
    const pending = [...this.#partitions.values()].filter(
      (p) => p.handled !== undefined && p.handled !== p.committed,
    );
    if (pending.length === 0) return;
    const marks = pending.map((p) => ({ state: p, offset: p.handled as string }));
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const { state, offset } of marks) {
      const list = byTopic.get(state.topic) ?? [];
      list.push({ partition: state.partition, offset });
      byTopic.set(state.topic, list);
    }
    await commit({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
    for (const { state, offset } of marks) state.committed = offset;
  }

  /**
   * A partition's messages go in rounds: round r holds the r-th event of every key, so a key's
   * events keep their order while different keys run side by side. Within a round, events of one
   * handler are grouped into chunks of distinct keys, each chunk one transaction (fewer commits
   * under load), run in parallel within the handler's bulkhead. `done[i]` is set once message i
   * has its final outcome.
   */
  async #handleMessages(
    topic: string,
    partition: number,
    items: Fetched[],
    done: boolean[],
    live: () => boolean,
  ): Promise<void> {
    const byKey = new Map<string, Delivery<Tx>[]>();
    for (const [i, { message }] of items.entries()) {
      if (!live()) break;
      const delivery = await this.#decode(topic, partition, message, i);
      if (!delivery) {
        done[i] = true;
        continue;
      }
      const key = message.key?.toString('latin1') ?? '';
      const list = byKey.get(key);
      if (list) list.push(delivery);
      else byKey.set(key, [delivery]);
    }
    const chunkSize = this.#o.maxEventsPerTransaction ?? 20;
    for (let round = 0; ; round++) {
      const current = [...byKey.values()].map((list) => list[round]).filter((d) => d !== undefined);
      if (current.length === 0 || !live()) break;
      const byHandler = new Map<EventHandler<Tx>, Delivery<Tx>[]>();
      for (const d of current) {
        const list = byHandler.get(d.entry.handler);
        if (list) list.push(d);
        else byHandler.set(d.entry.handler, [d]);
      }
      const chunks: Delivery<Tx>[][] = [];
      for (const list of byHandler.values()) {
        for (let i = 0; i < list.length; i += chunkSize) chunks.push(list.slice(i, i + chunkSize));
      }
      // Every chunk settles before a failure is reported, so none is still running when its
      // messages are taken up again.
      const settled = await Promise.allSettled(
        chunks.map(async (chunk) => {
          await chunk[0]!.entry.bulkhead.run(() => this.#runChunk(chunk));
          for (const d of chunk) done[d.index] = true;
        }),
      );
      const failure = settled.find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
    }
  }

  /**
   * Reads and checks a message. An invalid one is dead-lettered, an event nobody here handles is
   * skipped; both resolve undefined.
   */
  async #decode(
    topic: string,
    partition: number,
    message: KafkaMessage,
    index: number,
  ): Promise<Delivery<Tx> | undefined> {
    const headers = headerStrings(message.headers);
    let type = headers[Header.eventType] ?? 'unknown';
    let id = headers[Header.eventId];
    const settle = (outcome: ConsumeOutcome) => {
      this.#metrics.consumed.inc({ topic, type, result: outcome });
      this.#o.onOutcome?.(
        outcome,
        { type, ...(id !== undefined ? { id } : {}) },
        { topic, partition, offset: message.offset, headers },
      );
      return undefined;
    };
    try {
      const raw = parseValue(message.value);
      const envelope = envelopeSchema.safeParse(raw);
      let entry: HandlerEntry<Tx> | undefined;
      if (envelope.success) {
        type = envelope.data.type;
        id = envelope.data.id;
        entry = this.#handlers.get(`${envelope.data.type}@${envelope.data.version}`);
        if (!entry && !this.#handledTypes.has(envelope.data.type)) return settle('ignored');
        if (!entry) throw new InvalidEventError(`no handler for ${type}@${envelope.data.version}`);
      }
      const event = validateEvent(this.#registry, raw);
      return {
        index,
        topic,
        partition,
        message,
        headers,
        event,
        entry: entry!,
        failures: 0,
        generation: this.#generation,
      };
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error;
      await kafkaConsumeSpan(topic, { ...message, partition }, async (span) => {
        span.setAttribute('souk.event.invalid', error.message);
        await this.#deadLetter(topic, partition, message, error.message, 0, type);
      });
      return settle('invalid');
    }
  }

  #settle(d: Delivery<Tx>, outcome: ConsumeOutcome, seconds: number): void {
    const { topic, partition, message, headers, event } = d;
    this.#metrics.handlerDuration.observe({ topic, type: event.type }, seconds);
    this.#metrics.consumed.inc({ topic, type: event.type, result: outcome });
    this.#o.onOutcome?.(
      outcome,
      { id: event.id, type: event.type },
      { topic, partition, offset: message.offset, headers },
    );
  }

  /**
   * Records the event in the inbox (unless the caller did) and runs its handler, inside the caller's
   * transaction.
   */
  async #apply(
    tx: Tx,
    d: Delivery<Tx>,
    attempt: number,
    recorded = false,
  ): Promise<'processed' | 'duplicate'> {
    return kafkaConsumeSpan(d.topic, { ...d.message, partition: d.partition }, async (span) => {
      span.setAttribute('messaging.message.id', d.event.id);
      if (recorded) {
        await this.#handle(tx, d, attempt);
        return 'processed';
      }
      const inserted = await tx.$executeRawUnsafe(
        INBOX_INSERT,
        this.#o.groupId,
        d.event.id,
        d.event.type,
        d.topic,
        d.partition,
        d.message.offset,
      );
      if (inserted === 0) return 'duplicate';
      await this.#handle(tx, d, attempt);
      return 'processed';
    });
  }

  #handle(tx: Tx, d: Delivery<Tx>, attempt: number): Promise<void> {
    return d.entry.handler.handle(d.event, tx, {
      topic: d.topic,
      partition: d.partition,
      offset: d.message.offset,
      attempt,
      headers: d.headers,
    });
  }

  #transaction<R>(fn: (tx: Tx) => Promise<R>): Promise<R> {
    return Promise.resolve(
      this.#o.db.$transaction(fn, { timeout: this.#o.transactionTimeoutMs ?? 15_000, maxWait: 10_000 }),
    );
  }

  /**
   * One transaction for the whole chunk (its events have distinct keys), whose inbox rows go in
   * with one statement, then the handler's `prepare` takes the chunk's locks in one order. If any
   * handler throws, it all rolls back and each event is tried again alone, the failing one counting
   * its try; so does a chunk holding an event seen before. A deadlock or serialization failure is
   * no event's fault: Postgres rolled the whole chunk back, so the chunk runs again after a short
   * pause, and only after that fails a few times do its events go alone, none counting a try.
   */
  async #runChunk(chunk: Delivery<Tx>[]): Promise<void> {
    for (let conflicts = 0; chunk.length > 1; conflicts++) {
      const started = performance.now();
      let failing: Delivery<Tx> | undefined;
      try {
        const outcomes = await this.#transaction(async (tx) => {
          const rows = chunk.map((d) => ({
            event_id: d.event.id,
            event_type: d.event.type,
            topic: d.topic,
            partition: d.partition,
            offset: d.message.offset,
          }));
          const inserted = await tx.$executeRawUnsafe(
            INBOX_INSERT_MANY,
            this.#o.groupId,
            JSON.stringify(rows),
          );
          if (inserted < chunk.length) throw new SeenBefore();
          await chunk[0]!.entry.handler.prepare?.(
            chunk.map((d) => d.event),
            tx,
          );
          const results: ('processed' | 'duplicate')[] = [];
          for (const d of chunk) {
            try {
              results.push(await this.#apply(tx, d, 1, true));
            } catch (error) {
              failing = d;
              throw error;
            }
          }
          return results;
        });
        const seconds = (performance.now() - started) / 1000 / chunk.length;
        chunk.forEach((d, i) => {
          this.#settle(d, outcomes[i]!, seconds);
        });
        return;
      } catch (error) {
        const first = chunk[0]!;
        if (LOCK_CONFLICTS.has(transientErrorCode(error) ?? '')) {
          this.#metrics.lockConflicts.inc({ topic: first.topic, type: first.event.type });
          this.#log.warn(
            { err: error, type: first.event.type, events: chunk.length, conflicts: conflicts + 1 },
            'event chunk rolled back by a lock conflict',
          );
          if (conflicts < CHUNK_CONFLICT_RETRIES) {
            await sleep(backoffDelay(conflicts, { baseMs: 20, maxMs: 200 }));
            continue;
          }
        } else if (failing && transientErrorCode(error) === undefined) {
          failing.failures = 1;
          this.#metrics.consumed.inc({ topic: failing.topic, type: failing.event.type, result: 'retry' });
          this.#log.warn(
            { err: error, eventId: failing.event.id, type: failing.event.type },
            'event handler failed',
          );
        }
        break;
      }
    }
    for (const d of chunk) await this.#runAlone(d);
  }

  /**
   * Tries one event in its own transaction with backoff, then dead-letters it. A try the database
   * failed (see `transientErrorCode`) does not count: it is repeated after its own backoff for as
   * long as the database takes to come back, the partition waiting behind it, until the consumer
   * stops or loses the partition (the event then comes again from the committed offset).
   */
  async #runAlone(d: Delivery<Tx>): Promise<void> {
    const maxAttempts = this.#o.maxAttempts ?? 5;
    let attempt = d.failures + 1;
    let heldUp = 0;
    if (attempt > 1) await sleep(this.#retryDelay(attempt - 2));
    for (;;) {
      const started = performance.now();
      try {
        const outcome = await this.#transaction((tx) => this.#apply(tx, d, attempt));
        this.#settle(d, outcome, (performance.now() - started) / 1000);
        return;
      } catch (error) {
        const code = transientErrorCode(error);
        if (code !== undefined) {
          heldUp++;
          this.#metrics.transientRetries.inc({ topic: d.topic, type: d.event.type, code });
          this.#log.warn(
            { err: error, code, eventId: d.event.id, type: d.event.type, partition: d.partition, heldUp },
            'event held up by the database, trying again',
          );
          await this.#waitForDatabase(d, heldUp - 1);
          continue;
        }
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.#metrics.consumed.inc({ topic: d.topic, type: d.event.type, result: 'retry' });
        if (attempt >= maxAttempts) {
          this.#log.error(
            { err: error, eventId: d.event.id, type: d.event.type, attempt },
            'event dead-lettered',
          );
          await this.#deadLetter(d.topic, d.partition, d.message, reason, attempt, d.event.type);
          this.#settle(d, 'dead_lettered', (performance.now() - started) / 1000);
          return;
        }
        this.#log.warn(
          { err: error, eventId: d.event.id, type: d.event.type, attempt },
          'event handler failed',
        );
        attempt++;
        await sleep(this.#retryDelay(attempt - 2));
      }
    }
  }

  #retryDelay(failures: number): number {
    return backoffDelay(failures, {
      baseMs: this.#o.backoff?.initialMs ?? 100,
      maxMs: this.#o.backoff?.maxMs ?? 5_000,
    });
  }

  /** The pause before another try of an event the database held up; throws once it should not come. */
  async #waitForDatabase(d: Delivery<Tx>, heldUp: number): Promise<void> {
    const delay = backoffDelay(heldUp, {
      baseMs: this.#o.transientBackoff?.initialMs ?? 100,
      maxMs: this.#o.transientBackoff?.maxMs ?? 5_000,
    });
    await sleep(delay, this.#stopSignal.signal);
    if (this.#stopping || d.generation !== this.#generation) {
      throw new Error('event left for redelivery: the consumer stopped or lost its partition');
    }
  }

  async #deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
    attempts: number,
    type: string,
  ): Promise<void> {
    const letter = deadLetter(message, {
      topic,
      partition,
      offset: message.offset,
      reason,
      attempts,
      consumerGroup: this.#o.groupId,
    });
    await this.#producer.send({ topic: letter.topic, acks: -1, messages: [letter.message] });
    this.#metrics.deadLettered.inc({ topic, type });
  }
}

/** Offsets in the shape `consumer.commitOffsets` takes. */
function flatten(offsets: Offsets): { topic: string; partition: number; offset: string }[] {
  return offsets.topics.flatMap(({ topic, partitions }) =>
    partitions.map(({ partition, offset }) => ({ topic, partition, offset })),
  );
}
