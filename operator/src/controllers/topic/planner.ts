/**
 * The Topic controller's decision, as a pure function of what the Topic asks for and what Kafka has.
 * Level-based: it never looks at what changed, only at the two states, so running it again after a
 * crash or a missed event gives the same answer.
 */

export type DeletionPolicy = 'Delete' | 'Retain';

export interface DesiredTopic {
  readonly topicName: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The topic's whole dynamic config: anything else set in Kafka is drift. */
  readonly config: Readonly<Record<string, string>>;
  readonly deletionPolicy: DeletionPolicy;
}

export type ObservedTopic =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly partitions: number;
      readonly replicationFactor: number;
      /** Dynamic topic configs only (config source TOPIC_CONFIG); defaults are not listed. */
      readonly config: Readonly<Record<string, string>>;
    };

export interface ConfigDrift {
  readonly name: string;
  /** undefined: the Topic does not set it, so it is removed from Kafka. */
  readonly desired: string | undefined;
  /** undefined: Kafka does not have it set on the topic. */
  readonly actual: string | undefined;
}

export type TopicAction =
  | {
      readonly type: 'create';
      readonly topicName: string;
      readonly partitions: number;
      readonly replicationFactor: number;
      readonly config: Readonly<Record<string, string>>;
    }
  | {
      readonly type: 'growPartitions';
      readonly topicName: string;
      readonly from: number;
      readonly to: number;
    }
  | {
      readonly type: 'alterConfig';
      readonly topicName: string;
      /** The complete dynamic set to write (AlterConfigs replaces it as a whole). */
      readonly config: Readonly<Record<string, string>>;
      readonly drift: readonly ConfigDrift[];
    }
  | { readonly type: 'delete'; readonly topicName: string };

export type TopicPlan =
  | { readonly kind: 'InSync' }
  | { readonly kind: 'Apply'; readonly actions: readonly TopicAction[] }
  /** The Topic asks for something Kafka cannot do; nothing may be touched. */
  | { readonly kind: 'NotSupported'; readonly reasons: readonly string[] };

/** Kafka stores config values trimmed, and a list config in any order means the same. */
function normalize(name: string, value: string): string {
  const trimmed = value.trim();
  if (name === 'cleanup.policy') {
    return [...new Set(trimmed.split(',').map((s) => s.trim()))].sort().join(',');
  }
  return trimmed;
}

export function configDrift(
  desired: Readonly<Record<string, string>>,
  actual: Readonly<Record<string, string>>,
): ConfigDrift[] {
  const names = [...new Set([...Object.keys(desired), ...Object.keys(actual)])].sort();
  const drift: ConfigDrift[] = [];
  for (const name of names) {
    const d = Object.hasOwn(desired, name) ? desired[name] : undefined;
    const a = Object.hasOwn(actual, name) ? actual[name] : undefined;
    if (d === undefined || a === undefined ? d !== a : normalize(name, d) !== normalize(name, a)) {
      drift.push({ name, desired: d, actual: a });
    }
  }
  return drift;
}

export function planTopic(desired: DesiredTopic, observed: ObservedTopic): TopicPlan {
  if (!observed.exists) {
    return {
      kind: 'Apply',
      actions: [
        {
          type: 'create',
          topicName: desired.topicName,
          partitions: desired.partitions,
          replicationFactor: desired.replicationFactor,
          config: { ...desired.config },
        },
      ],
    };
  }

  const reasons: string[] = [];
  if (desired.partitions < observed.partitions) {
    reasons.push(
      `partitions cannot decrease (Kafka has ${observed.partitions}, the Topic asks for ${desired.partitions})`,
    );
  }
  if (desired.replicationFactor !== observed.replicationFactor) {
    reasons.push(
      `replicationFactor cannot change (Kafka has ${observed.replicationFactor}, the Topic asks for ${desired.replicationFactor})`,
    );
  }
  if (reasons.length > 0) return { kind: 'NotSupported', reasons };

  const actions: TopicAction[] = [];
  const drift = configDrift(desired.config, observed.config);
  if (drift.length > 0) {
    actions.push({ type: 'alterConfig', topicName: desired.topicName, config: { ...desired.config }, drift });
  }
  if (desired.partitions > observed.partitions) {
    actions.push({
      type: 'growPartitions',
      topicName: desired.topicName,
      from: observed.partitions,
      to: desired.partitions,
    });
  }
  return actions.length === 0 ? { kind: 'InSync' } : { kind: 'Apply', actions };
}

/** What happens in Kafka when the Topic is deleted: only `Delete` removes the Kafka topic. */
export function planDeletion(desired: DesiredTopic, observed: ObservedTopic): TopicAction[] {
  if (desired.deletionPolicy !== 'Delete' || !observed.exists) return [];
  return [{ type: 'delete', topicName: desired.topicName }];
}
