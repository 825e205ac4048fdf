import kafkajs, { type Admin, type logCreator } from 'kafkajs';
import {
  isKafkaUnavailable,
  KafkaUnavailable,
  protocolErrorOf,
  TopicRejected,
  toKafkaUnavailable,
} from './errors.ts';
import { MicroBatcher } from './micro-batcher.ts';
import type { ObservedTopic, TopicAction } from './planner.ts';

// kafkajs is CommonJS: its enums are only reachable through the module object.
const { ConfigResourceTypes, ConfigSource, Kafka, logLevel } = kafkajs;

export interface KafkaAdminGatewayOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Most topics in one Kafka request. Default 200. */
  readonly maxBatchSize?: number;
  /** How long a batch waits for company before it goes out. Default 5 ms. */
  readonly windowMs?: number;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** kafkajs retries inside one call before the failure is reported. Default 1. */
  readonly retries?: number;
  readonly logCreator?: logCreator;
}

type CreateAction = Extract<TopicAction, { type: 'create' }>;
type GrowAction = Extract<TopicAction, { type: 'growPartitions' }>;
type AlterAction = Extract<TopicAction, { type: 'alterConfig' }>;

type Settled<T> = PromiseSettledResult<T>;
const ok = <T>(value: T): Settled<T> => ({ status: 'fulfilled', value });
const failed = <T>(reason: unknown): Settled<T> => ({ status: 'rejected', reason });

/**
 * The Topic controller's only door to Kafka. Calls from many Topics are coalesced per operation into one
 * Metadata + DescribeConfigs / CreateTopics / CreatePartitions / AlterConfigs / DeleteTopics request per
 * window, and each caller gets its own topic's outcome back: TopicRejected (Kafka refused this topic) or
 * KafkaUnavailable (Kafka could not be reached; retry later).
 */
export class KafkaAdminGateway {
  private adminPromise: Promise<Admin> | undefined;
  private closed = false;
  private readonly kafka: InstanceType<typeof Kafka>;
  private readonly describeBatcher: MicroBatcher<string, ObservedTopic>;
  private readonly createBatcher: MicroBatcher<CreateAction, void>;
  private readonly growBatcher: MicroBatcher<GrowAction, void>;
  private readonly alterBatcher: MicroBatcher<AlterAction, void>;
  private readonly deleteBatcher: MicroBatcher<string, void>;

  constructor(readonly options: KafkaAdminGatewayOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'souk-operator',
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 1000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      retry: { retries: options.retries ?? 1, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.NOTHING,
      ...(options.logCreator ? { logCreator: options.logCreator, logLevel: logLevel.WARN } : {}),
    });
    const batch = { maxBatchSize: options.maxBatchSize ?? 200, windowMs: options.windowMs ?? 5 };
    this.describeBatcher = new MicroBatcher({
      ...batch,
      run: (names) => this.guard(names, (admin) => this.describeMany(admin, names)),
    });
    this.createBatcher = new MicroBatcher({
      ...batch,
      run: (items) => this.guard(items, (admin) => this.createMany(admin, items)),
    });
    this.growBatcher = new MicroBatcher({
      ...batch,
      run: (items) => this.guard(items, (admin) => this.growMany(admin, items)),
    });
    this.alterBatcher = new MicroBatcher({
      ...batch,
      run: (items) => this.guard(items, (admin) => this.alterMany(admin, items)),
    });
    this.deleteBatcher = new MicroBatcher({
      ...batch,
      run: (names) => this.guard(names, (admin) => this.deleteMany(admin, names)),
    });
  }

  /** What Kafka has for this topic: existence, partition count, replication factor, dynamic configs. */
  observe(topicName: string): Promise<ObservedTopic> {
    return this.describeBatcher.submit(topicName);
  }

  /**
   * Carries out one planned action. `create` of a topic someone else created meanwhile resolves too:
   * the next observation shows what is really there.
   */
  apply(action: TopicAction): Promise<void> {
    switch (action.type) {
      case 'create':
        return this.createBatcher.submit(action);
      case 'growPartitions':
        return this.growBatcher.submit(action);
      case 'alterConfig':
        return this.alterBatcher.submit(action);
      case 'delete':
        return this.deleteBatcher.submit(action.topicName);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const admin = this.adminPromise;
    this.adminPromise = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }

  private admin(): Promise<Admin> {
    if (this.closed) return Promise.reject(new KafkaUnavailable('the Kafka admin gateway is closed'));
    if (!this.adminPromise) {
      const admin = this.kafka.admin();
      const connecting = admin.connect().then(() => admin);
      this.adminPromise = connecting;
      connecting.catch(() => this.dropAdmin(connecting));
    }
    return this.adminPromise;
  }

  /**
   * A connection that failed is not reused: the next call connects afresh. Only the client that failed is
   * dropped, not one a concurrent batch has already replaced it with.
   */
  private dropAdmin(failed: Promise<Admin>): void {
    if (this.adminPromise !== failed) return;
    this.adminPromise = undefined;
    failed.then((a) => a.disconnect()).catch(() => undefined);
  }

  /** Turns a whole-batch connectivity failure into KafkaUnavailable for every caller. */
  private async guard<I extends string | { readonly topicName: string }, O>(
    items: readonly I[],
    run: (admin: Admin) => Promise<Settled<O>[]>,
  ): Promise<Settled<O>[]> {
    const session = this.admin();
    try {
      const results = await run(await session);
      if (results.some((r) => r.status === 'rejected' && r.reason instanceof KafkaUnavailable)) {
        this.dropAdmin(session);
      }
      return results;
    } catch (err) {
      if (!isKafkaUnavailable(err) && !(err instanceof KafkaUnavailable)) {
        return items.map((item) => failed(classify(typeof item === 'string' ? item : item.topicName, err)));
      }
      this.dropAdmin(session);
      return items.map(() => failed(err instanceof KafkaUnavailable ? err : toKafkaUnavailable(err)));
    }
  }

  private async describeMany(admin: Admin, names: readonly string[]): Promise<Settled<ObservedTopic>[]> {
    // All topics in one Metadata request: kafkajs fails a whole Metadata call on one unknown topic.
    const metadata = await admin.fetchTopicMetadata();
    const byName = new Map(metadata.topics.map((t) => [t.name, t]));
    const existing = [...new Set(names.filter((n) => byName.has(n)))];
    const configs = await splitOnFailure(existing, async (part) => {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: part.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
      });
      const byResource = new Map(resources.map((r) => [r.resourceName, r]));
      return part.map((name) => {
        const entries = byResource.get(name)?.configEntries ?? [];
        const dynamic: Record<string, string> = {};
        for (const e of entries) {
          if (e.configSource === ConfigSource.TOPIC_CONFIG && e.configValue !== null)
            dynamic[e.configName] = e.configValue;
        }
        return dynamic;
      });
    });
    const configByName = new Map(existing.map((n, i) => [n, configs[i]!]));
    return names.map((name): Settled<ObservedTopic> => {
      const topic = byName.get(name);
      if (!topic) return ok({ exists: false });
      const config = configByName.get(name)!;
      if (config.status === 'rejected') {
        const err = classify(name, config.reason);
        // Deleted between the two requests: it does not exist any more.
        if (err instanceof TopicRejected && err.type === 'UNKNOWN_TOPIC_OR_PARTITION')
          return ok({ exists: false });
        return failed(err);
      }
      return ok({
        exists: true,
        partitions: topic.partitions.length,
        replicationFactor: Math.max(0, ...topic.partitions.map((p) => p.replicas.length)),
        config: config.value,
      });
    });
  }

  private async createMany(admin: Admin, items: readonly CreateAction[]): Promise<Settled<void>[]> {
    const { unique, duplicate } = firstPerTopic(items);
    const rejected = new Map<string, unknown>();
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: unique.map((a) => ({
          topic: a.topicName,
          numPartitions: a.partitions,
          replicationFactor: a.replicationFactor,
          configEntries: Object.entries(a.config).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      const perTopic = (err as { errors?: { topic?: string }[] }).errors;
      if (!Array.isArray(perTopic) || isKafkaUnavailable(err)) throw err;
      for (const e of perTopic) if (e.topic) rejected.set(e.topic, e);
    }
    return items.map((a, i) => {
      if (duplicate.has(i)) return failed(duplicateInBatch(a.topicName));
      const err = rejected.get(a.topicName);
      if (err === undefined) return ok(undefined);
      const rejection = classify(a.topicName, err);
      return rejection instanceof TopicRejected && rejection.type === 'TOPIC_ALREADY_EXISTS'
        ? ok(undefined)
        : failed(rejection);
    });
  }

  private async growMany(admin: Admin, items: readonly GrowAction[]): Promise<Settled<void>[]> {
    return this.perTopic(items, (part) =>
      admin.createPartitions({ topicPartitions: part.map((a) => ({ topic: a.topicName, count: a.to })) }),
    );
  }

  private async alterMany(admin: Admin, items: readonly AlterAction[]): Promise<Settled<void>[]> {
    return this.perTopic(items, (part) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: part.map((a) => ({
          type: ConfigResourceTypes.TOPIC,
          name: a.topicName,
          configEntries: Object.entries(a.config).map(([name, value]) => ({ name, value })),
        })),
      }),
    );
  }

  private async deleteMany(admin: Admin, names: readonly string[]): Promise<Settled<void>[]> {
    // Deleting what is already gone is done; asking Kafka would only fail the whole batch.
    const present = new Set((await admin.fetchTopicMetadata()).topics.map((t) => t.name));
    const toDelete = names.map((topicName) => ({ topicName })).filter((a) => present.has(a.topicName));
    const results = new Map<string, Settled<void>>();
    if (toDelete.length > 0) {
      const settled = await this.perTopic(toDelete, (part) =>
        admin.deleteTopics({ topics: part.map((a) => a.topicName) }),
      );
      toDelete.forEach((a, i) => {
        const r = settled[i]!;
        const gone =
          r.status === 'rejected' &&
          r.reason instanceof TopicRejected &&
          r.reason.type === 'UNKNOWN_TOPIC_OR_PARTITION';
        results.set(a.topicName, gone ? ok(undefined) : r);
      });
    }
    return names.map((n) => results.get(n) ?? ok(undefined));
  }

  /**
   * kafkajs reports only the first failing topic of a CreatePartitions / AlterConfigs / DeleteTopics
   * response, so a failed batch is split until each failure belongs to one topic.
   */
  private async perTopic<A extends { topicName: string }>(
    items: readonly A[],
    run: (part: readonly A[]) => Promise<unknown>,
  ): Promise<Settled<void>[]> {
    const { unique, duplicate } = firstPerTopic(items);
    const settled = await splitOnFailure(unique, async (part) => {
      await run(part);
      return part.map(() => undefined);
    });
    const byTopic = new Map(unique.map((a, i) => [a.topicName, settled[i]!]));
    return items.map((a, i) => {
      if (duplicate.has(i)) return failed(duplicateInBatch(a.topicName));
      const r = byTopic.get(a.topicName)!;
      return r.status === 'fulfilled' ? r : failed(classify(a.topicName, r.reason));
    });
  }
}

async function splitOnFailure<I, O>(
  items: readonly I[],
  run: (part: readonly I[]) => Promise<readonly O[]>,
): Promise<Settled<O>[]> {
  if (items.length === 0) return [];
  try {
    return (await run(items)).map((v) => ok(v));
  } catch (err) {
    if (items.length === 1 || isKafkaUnavailable(err)) return items.map(() => failed(err));
    const mid = Math.ceil(items.length / 2);
    const left = await splitOnFailure(items.slice(0, mid), run);
    const right = await splitOnFailure(items.slice(mid), run);
    return [...left, ...right];
  }
}

function firstPerTopic<A extends { topicName: string }>(
  items: readonly A[],
): { unique: A[]; duplicate: Set<number> } {
  const seen = new Set<string>();
  const unique: A[] = [];
  const duplicate = new Set<number>();
  items.forEach((a, i) => {
    if (seen.has(a.topicName)) duplicate.add(i);
    else {
      seen.add(a.topicName);
      unique.push(a);
    }
  });
  return { unique, duplicate };
}

function duplicateInBatch(topicName: string): TopicRejected {
  return new TopicRejected(
    topicName,
    'CONCURRENT_CHANGE',
    true,
    `another change to ${topicName} was in the same batch`,
  );
}

function classify(topicName: string, err: unknown): Error {
  if (err instanceof KafkaUnavailable || err instanceof TopicRejected) return err;
  if (isKafkaUnavailable(err)) return toKafkaUnavailable(err);
  const protocol = protocolErrorOf(err);
  if (protocol)
    return new TopicRejected(topicName, protocol.type, protocol.retriable, protocol.message, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new TopicRejected(topicName, 'UNKNOWN', false, message, { cause: err });
}
