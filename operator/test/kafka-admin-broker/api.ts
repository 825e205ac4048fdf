import type { Decoder } from './decoder.ts';
import type { Encoder } from './encoder.ts';
import type { TopicStore } from './topic-store.ts';

/** API keys as the Kafka protocol numbers them. */
export const ApiKey = {
  Metadata: 3,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  CreatePartitions: 37,
} as const;

export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface CreateTopicRequestView {
  readonly topic: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly replicaAssignment: ReadonlyMap<number, readonly number[]>;
  readonly configs: ReadonlyMap<string, string>;
}

/** Like Kafka's create.topic.policy.class.name: return a message to reject with POLICY_VIOLATION. */
export type CreateTopicPolicy = (request: CreateTopicRequestView) => string | undefined;

export interface RequestContext {
  readonly store: TopicStore;
  readonly clusterId: string;
  readonly controllerId: number;
  readonly brokers: () => readonly BrokerNode[];
  readonly handlers: readonly ApiHandler[];
  readonly createTopicPolicy: CreateTopicPolicy | undefined;
}

/**
 * One Kafka API. Only non-flexible versions are implemented (kafkajs 2.2.4 never sends flexible ones),
 * so every request uses header v1 and every response header v0.
 */
export interface ApiHandler {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, version: number, request: Decoder): Encoder;
}
