import { type ApiHandler, ApiKey, type CreateTopicRequestView, type RequestContext } from './api.ts';
import { Encoder } from './encoder.ts';
import { ApiError, ErrorCode } from './errors.ts';
import { validateTopicConfig } from './topic-configs.ts';
import { invalidTopicName } from './topic-name.ts';

interface CreatableTopic {
  readonly name: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly assignments: readonly { readonly partition: number; readonly brokerIds: readonly number[] }[];
  readonly configs: readonly { readonly name: string; readonly value: string | null }[];
}

interface TopicResult {
  readonly name: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const DEFAULT_NUM_PARTITIONS = 1;
const DEFAULT_REPLICATION_FACTOR = 1;

/** CreateTopics v0-v3 (validate_only from v1). Each topic succeeds or fails on its own. */
export const createTopics: ApiHandler = {
  apiKey: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, version, req) {
    const topics = req.readArray(
      (d): CreatableTopic => ({
        name: d.readString(),
        numPartitions: d.readInt32(),
        replicationFactor: d.readInt16(),
        assignments: d.readArray((a) => ({
          partition: a.readInt32(),
          brokerIds: a.readArray((r) => r.readInt32()),
        })),
        configs: d.readArray((c) => ({ name: c.readString(), value: c.readNullableString() })),
      }),
    );
    req.readInt32(); // timeout_ms: creation here is immediate
    const validateOnly = version >= 1 ? req.readBoolean() : false;

    const counts = new Map<string, number>();
    for (const t of topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);

    const results = topics.map((topic): TopicResult => {
      try {
        if ((counts.get(topic.name) ?? 0) > 1) {
          throw new ApiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
        }
        createOne(ctx, topic, validateOnly);
        return { name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null };
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        return { name: topic.name, errorCode: err.code, errorMessage: err.message };
      }
    });

    const e = new Encoder();
    if (version >= 2) e.writeInt32(0);
    e.writeArray(results, (w, r) => {
      w.writeString(r.name).writeInt16(r.errorCode);
      if (version >= 1) w.writeNullableString(r.errorMessage);
    });
    return e;
  },
};

function createOne(ctx: RequestContext, topic: CreatableTopic, validateOnly: boolean): void {
  const { store } = ctx;
  const badName = invalidTopicName(topic.name);
  if (badName) throw new ApiError(ErrorCode.INVALID_TOPIC_EXCEPTION, badName);
  if (store.get(topic.name)) {
    throw new ApiError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${topic.name}' already exists.`);
  }
  const collision = store.collidingWith(topic.name);
  if (collision) {
    throw new ApiError(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `Topic '${topic.name}' collides with existing topic: ${collision}`,
    );
  }

  const configs = new Map<string, string>();
  for (const { name, value } of topic.configs) {
    const problem = validateTopicConfig(name, value);
    if (problem) throw new ApiError(ErrorCode.INVALID_CONFIG, problem);
    configs.set(name, value!.trim());
  }

  const brokers = store.brokerIds;
  let assignment: number[][];
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      throw new ApiError(
        ErrorCode.INVALID_REQUEST,
        'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
      );
    }
    assignment = explicitAssignment(topic, brokers);
  } else {
    const numPartitions = topic.numPartitions === -1 ? DEFAULT_NUM_PARTITIONS : topic.numPartitions;
    const rf = topic.replicationFactor === -1 ? DEFAULT_REPLICATION_FACTOR : topic.replicationFactor;
    if (numPartitions <= 0) {
      throw new ApiError(
        ErrorCode.INVALID_PARTITIONS,
        'Number of partitions was set to an invalid non-positive value.',
      );
    }
    if (rf <= 0) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        'Replication factor must be larger than 0, or -1 to use the default value.',
      );
    }
    if (rf > brokers.length) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${brokers.length} broker(s) are registered.`,
      );
    }
    assignment = [];
    if (!validateOnly) assignment = store.assignReplicas(numPartitions, rf);
    else assignment = Array.from({ length: numPartitions }, () => brokers.slice(0, rf));
  }

  const view: CreateTopicRequestView = {
    topic: topic.name,
    numPartitions: topic.numPartitions,
    replicationFactor: topic.replicationFactor,
    replicaAssignment: new Map(topic.assignments.map((a) => [a.partition, a.brokerIds])),
    configs,
  };
  const rejection = ctx.createTopicPolicy?.(view);
  if (rejection !== undefined) throw new ApiError(ErrorCode.POLICY_VIOLATION, rejection);

  if (!validateOnly) store.create(topic.name, assignment, configs);
}

function explicitAssignment(topic: CreatableTopic, brokers: readonly number[]): number[][] {
  const sorted = [...topic.assignments].sort((a, b) => a.partition - b.partition);
  const out: number[][] = [];
  sorted.forEach((a, i) => {
    if (a.partition !== i) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'Partitions should be 0-based and consecutive in the replica assignment.',
      );
    }
    if (a.brokerIds.length === 0) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Replica assignment for partition ${i} is empty.`,
      );
    }
    if (new Set(a.brokerIds).size !== a.brokerIds.length) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Duplicate brokers not allowed in replica assignment: ${a.brokerIds.join(', ')} for partition id ${i}.`,
      );
    }
    const unknown = a.brokerIds.find((b) => !brokers.includes(b));
    if (unknown !== undefined) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to assign partition ${i} to broker ${unknown}, which is not a registered broker.`,
      );
    }
    if (i > 0 && a.brokerIds.length !== out[0]!.length) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'All partitions should have the same number of replicas.',
      );
    }
    out.push([...a.brokerIds]);
  });
  return out;
}
