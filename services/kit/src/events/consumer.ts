import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { backoffDelay, sleep } from '../backoff.ts';
import type { Metrics } from '../metrics.ts';
import type { Shutdown } from '../shutdown.ts';
import { kafkaConsumeSpan } from '../spans.ts';
import { Bulkhead } from './bulkhead.ts';
import { headerStrings, InvalidEventError, parseValue, validateEvent } from './codec.ts';
import type { EventContract, EventOf } from './contracts/contract.ts';
import { type ContractRegistry, registry as defaultRegistry } from './contracts/registry.ts';
import { deadLetter } from './dead-letter.ts';
import { type EventEnvelope, envelopeSchema, Header } from './envelope.ts';
import { orderedProducer } from './kafka.ts';
import { type EventMetrics, eventMetrics } from './metrics.ts';
import type { SqlExecutor } from './outbox.ts';

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
  /** 1 on the first try. */
  attempt: number;
  headers: Record<string, string>;
}

export interface EventHandler<Tx> {
  contract: EventContract;
  /** Calls of this handler running at once (the bulkhead). */
  concurrency: number | undefined;
  handle(event: EventEnvelope, tx: Tx, delivery: DeliveryInfo): Promise<void>;
}

/**
 * Declares the handler of one event contract. It runs inside the transaction that records the
 * event in the inbox: make every effect through `tx`, and the effect happens once however often
 * the event is delivered. Throwing rolls both back; the event is retried, then dead-lettered.
 */
export function on<C extends EventContract, Tx>(
  contract: C,
  handle: (event: EventOf<C>, tx: Tx, delivery: DeliveryInfo) => Promise<void>,
  options: { concurrency?: number } = {},
): EventHandler<Tx> {
  return {
    contract,
    concurrency: options.concurrency,
    handle: handle as (event: EventEnvelope, tx: Tx, delivery: DeliveryInfo) => Promise<void>,
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
  /** Default bulkhead of a handler that sets none: its transactions in flight at once. */
  concurrency?: number;
  /** Events of distinct keys handled in one transaction (1: a transaction per event). */
  maxEventsPerTransaction?: number;
  partitionsConsumedConcurrently?: number;
  /** Interactive transaction timeout for one handler call. */
  transactionTimeoutMs?: number;
  /** Where a new group starts; true by default, so a new service sees the history still retained. */
  fromBeginning?: boolean;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /** The tail of produce→consume latency follows this on the mock cluster: keep it low. */
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
}

const INBOX_INSERT = `INSERT INTO "souk_inbox" ("consumer", "event_id", "event_type", "topic", "partition", "offset")
VALUES ($1, $2::uuid, $3, $4, $5, $6::bigint) ON CONFLICT DO NOTHING`;

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
  #joined: Promise<void>;
  #started = false;
  #stopped: Promise<void> | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;

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
    }
    this.#topics = [...new Set(options.handlers.map((h) => resolve(h.contract.aggregate.topic)))];
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeout ?? 6_000,
      heartbeatInterval: options.heartbeatInterval ?? 1_000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 50,
      allowAutoTopicCreation: true,
    });
    this.#producer = orderedProducer(options.kafka);
    this.#joined = new Promise((resolve) => {
      this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => resolve());
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
      autoCommit: true,
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
  }

  /** Finishes the batches in hand, commits their offsets, and leaves the group. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      clearInterval(this.#pruneTimer);
      await this.#consumer.stop().catch(() => {});
      await this.#consumer.disconnect().catch(() => {});
      await this.#producer.disconnect().catch(() => {});
    })();
    return this.#stopped;
  }

  /**
   * A partition's batch goes in rounds: round r holds the r-th event of every key, so a key's
   * events keep their order while different keys run side by side. Within a round, events of one
   * handler are grouped into chunks of distinct keys, each chunk one transaction (fewer commits
   * under load), run in parallel within the handler's bulkhead.
   */
  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const messages = batch.messages;
    if (messages.length === 0) return;
    const topic = batch.topic;
    const partition = batch.partition;
    const done = new Array<boolean>(messages.length).fill(false);
    const byKey = new Map<string, Delivery<Tx>[]>();
    for (const [i, message] of messages.entries()) {
      if (!isRunning() || isStale()) break;
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
      if (current.length === 0 || !isRunning() || isStale()) break;
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
      await Promise.all(
        chunks.map(async (chunk) => {
          await chunk[0]!.entry.bulkhead.run(() => this.#runChunk(chunk));
          for (const d of chunk) done[d.index] = true;
        }),
      );
      await heartbeat().catch(() => {});
    }
    let last = -1;
    while (last + 1 < messages.length && done[last + 1]) last++;
    if (last >= 0) {
      const offset = (messages[last] as KafkaMessage).offset;
      resolveOffset(offset);
      await commitOffsetsIfNecessary();
      const lag = Number(batch.highWatermark) - Number(offset) - 1;
      this.#metrics.consumerLag.set({ topic, partition: String(partition) }, Math.max(0, lag));
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
      return { index, topic, partition, message, headers, event, entry: entry!, failures: 0 };
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

  /** Records the event in the inbox and runs its handler, inside the caller's transaction. */
  async #apply(tx: Tx, d: Delivery<Tx>, attempt: number): Promise<'processed' | 'duplicate'> {
    return kafkaConsumeSpan(d.topic, { ...d.message, partition: d.partition }, async (span) => {
      span.setAttribute('messaging.message.id', d.event.id);
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
      await d.entry.handler.handle(d.event, tx, {
        topic: d.topic,
        partition: d.partition,
        offset: d.message.offset,
        attempt,
        headers: d.headers,
      });
      return 'processed';
    });
  }

  #transaction<R>(fn: (tx: Tx) => Promise<R>): Promise<R> {
    return Promise.resolve(
      this.#o.db.$transaction(fn, { timeout: this.#o.transactionTimeoutMs ?? 15_000, maxWait: 10_000 }),
    );
  }

  /**
   * One transaction for the whole chunk (its events have distinct keys). If any handler throws,
   * it all rolls back and each event is tried again alone, the failing one counting its try.
   */
  async #runChunk(chunk: Delivery<Tx>[]): Promise<void> {
    if (chunk.length > 1) {
      const started = performance.now();
      let failing: Delivery<Tx> | undefined;
      try {
        const outcomes = await this.#transaction(async (tx) => {
          const results: ('processed' | 'duplicate')[] = [];
          for (const d of chunk) {
            try {
              results.push(await this.#apply(tx, d, 1));
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
        if (failing) {
          failing.failures = 1;
          this.#metrics.consumed.inc({ topic: failing.topic, type: failing.event.type, result: 'retry' });
          this.#log.warn(
            { err: error, eventId: failing.event.id, type: failing.event.type },
            'event handler failed',
          );
        }
      }
    }
    for (const d of chunk) await this.#runAlone(d);
  }

  /** Tries one event in its own transaction with backoff, then dead-letters it. */
  async #runAlone(d: Delivery<Tx>): Promise<void> {
    const maxAttempts = this.#o.maxAttempts ?? 5;
    for (let attempt = d.failures + 1; ; attempt++) {
      if (attempt > 1) {
        await sleep(
          backoffDelay(attempt - 2, {
            baseMs: this.#o.backoff?.initialMs ?? 100,
            maxMs: this.#o.backoff?.maxMs ?? 5_000,
          }),
        );
      }
      const started = performance.now();
      try {
        const outcome = await this.#transaction((tx) => this.#apply(tx, d, attempt));
        this.#settle(d, outcome, (performance.now() - started) / 1000);
        return;
      } catch (error) {
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
      }
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
