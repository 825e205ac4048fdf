import type { Topic, TopicStatus } from '../../api/v1alpha1/topic.ts';
import { type ConditionInput, setCondition } from '../../runtime/conditions.ts';
import type { SyncOutcome } from './sync.ts';

/** What one reconcile of a Topic found, as far as its status is concerned. */
export type TopicResult =
  | { readonly kind: 'Synced'; readonly topicName: string; readonly outcome: SyncOutcome }
  | { readonly kind: 'ResourceConflict'; readonly topicName: string; readonly ownedBy: string }
  | { readonly kind: 'KafkaUnavailable'; readonly topicName: string; readonly message: string }
  | {
      readonly kind: 'KafkaError';
      readonly topicName: string;
      readonly type: string;
      readonly message: string;
    };

export const READY = 'Ready';

function readyCondition(result: TopicResult): ConditionInput {
  switch (result.kind) {
    case 'Synced': {
      const { outcome } = result;
      if (outcome.kind === 'NotSupported') {
        return { type: READY, status: 'False', reason: 'NotSupported', message: outcome.reasons.join('; ') };
      }
      return {
        type: READY,
        status: 'True',
        reason: 'Synced',
        message: `Kafka topic ${result.topicName} matches the spec`,
      };
    }
    case 'ResourceConflict':
      return {
        type: READY,
        status: 'False',
        reason: 'ResourceConflict',
        message: `Kafka topic ${result.topicName} is managed by the older Topic ${result.ownedBy}`,
      };
    case 'KafkaUnavailable':
      return { type: READY, status: 'False', reason: 'KafkaUnavailable', message: result.message };
    case 'KafkaError':
      return {
        type: READY,
        status: 'False',
        reason: 'KafkaError',
        message: `${result.type}: ${result.message}`,
      };
  }
}

/**
 * The status a Topic should carry after a reconcile. Partitions and replication factor report Kafka's
 * state: the spec once it was applied, what Kafka has when the spec was refused, and the last known values
 * when Kafka could not be asked.
 */
export function topicStatus(topic: Topic, result: TopicResult, now: Date = new Date()): TopicStatus {
  const previous = topic.status ?? {};
  const generation = topic.metadata.generation;
  const status: TopicStatus = {
    topicName: result.topicName,
    conditions: setCondition(previous.conditions, readyCondition(result), generation, now),
  };
  if (generation !== undefined) status.observedGeneration = generation;
  let partitions = previous.partitions;
  let replicationFactor = previous.replicationFactor;
  if (result.kind === 'Synced') {
    const { outcome } = result;
    if (outcome.kind === 'NotSupported' && outcome.observed.exists) {
      partitions = outcome.observed.partitions;
      replicationFactor = outcome.observed.replicationFactor;
    } else if (outcome.kind !== 'NotSupported') {
      partitions = topic.spec.partitions;
      replicationFactor = topic.spec.replicationFactor;
    }
  }
  if (partitions !== undefined) status.partitions = partitions;
  if (replicationFactor !== undefined) status.replicationFactor = replicationFactor;
  return status;
}

/** Whether writing `next` would change anything (so a steady state makes no writes and no events). */
export function statusChanged(previous: TopicStatus | undefined, next: TopicStatus): boolean {
  return JSON.stringify(sorted(previous ?? {})) !== JSON.stringify(sorted(next));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sorted(v)]),
    );
  }
  return value;
}
