import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  Conditions,
  Enum,
  type KindDefinition,
  type ObjectMeta,
  readyColumn,
  reasonColumn,
  rules,
  StringMap,
} from './meta.ts';

export const TopicSpec = Type.Object({
  topicName: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 249,
      pattern: '^[a-zA-Z0-9._-]+$',
      description: 'Kafka topic name. Defaults to metadata.name. Immutable.',
      ...rules({ rule: 'self == oldSelf', message: 'topicName is immutable' }),
    }),
  ),
  partitions: Type.Integer({
    minimum: 1,
    maximum: 10000,
    default: 1,
    description:
      'Partition count. Kafka can only grow it: a decrease is reported as Ready=False NotSupported.',
  }),
  replicationFactor: Type.Integer({
    minimum: 1,
    maximum: 32767,
    default: 1,
    description: 'Immutable once set.',
    ...rules({ rule: 'self == oldSelf', message: 'replicationFactor is immutable' }),
  }),
  config: Type.Optional(
    StringMap({ description: 'Kafka topic configs (retention.ms, cleanup.policy, ...).' }),
  ),
  deletionPolicy: Enum(['Delete', 'Retain'], {
    default: 'Delete',
    description: 'Delete removes the Kafka topic with the resource; Retain leaves it.',
  }),
  bootstrapServers: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Comma-separated host:port list of the Kafka cluster. Defaults to the operator default.',
    }),
  ),
});
export type TopicSpec = Static<typeof TopicSpec>;

export const TopicStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer()),
  topicName: Type.Optional(Type.String({ description: 'The Kafka topic this resource manages.' })),
  partitions: Type.Optional(Type.Integer()),
  replicationFactor: Type.Optional(Type.Integer()),
  conditions: Type.Optional(Conditions),
});
export type TopicStatus = Static<typeof TopicStatus>;

export interface Topic {
  apiVersion: 'souk.dev/v1alpha1';
  kind: 'Topic';
  metadata: ObjectMeta;
  spec: TopicSpec;
  status?: TopicStatus;
}

/** The Kafka topic name a Topic stands for. */
export const kafkaTopicName = (t: Pick<Topic, 'metadata' | 'spec'>): string =>
  t.spec.topicName ?? t.metadata.name;

export const topic: KindDefinition = {
  kind: 'Topic',
  plural: 'topics',
  singular: 'topic',
  shortNames: ['ktopic', 'kt'],
  categories: ['souk'],
  description: 'A Kafka topic, kept in line with its spec.',
  spec: TopicSpec,
  status: TopicStatus,
  rules: [
    {
      rule: '!has(oldSelf.spec) || (has(self.spec.topicName) ? self.spec.topicName : self.metadata.name) == (has(oldSelf.spec.topicName) ? oldSelf.spec.topicName : oldSelf.metadata.name)',
      message: 'the Kafka topic name (spec.topicName, defaulting to metadata.name) is immutable',
      fieldPath: '.spec.topicName',
    },
  ],
  printerColumns: [
    { name: 'Topic', type: 'string', jsonPath: '.status.topicName' },
    { name: 'Partitions', type: 'integer', jsonPath: '.spec.partitions' },
    { name: 'RF', type: 'integer', jsonPath: '.spec.replicationFactor' },
    { name: 'Policy', type: 'string', jsonPath: '.spec.deletionPolicy', priority: 1 },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
};
