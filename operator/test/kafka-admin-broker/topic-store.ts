import { randomUUID } from 'node:crypto';

export interface PartitionState {
  readonly partition: number;
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface StoredTopic {
  readonly name: string;
  readonly topicId: string;
  partitions: PartitionState[];
  /** Dynamic (per-topic) configs only; everything else is the broker default. */
  config: Map<string, string>;
}

export interface TopicSnapshot {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly PartitionState[];
  readonly replicationFactor: number;
  readonly config: Readonly<Record<string, string>>;
}

/** The cluster's topic state, shared by every broker of one test cluster (as the controller quorum is). */
export class TopicStore {
  private readonly topics = new Map<string, StoredTopic>();
  private assignmentCursor = 0;

  constructor(readonly brokerIds: readonly number[]) {}

  get(name: string): StoredTopic | undefined {
    return this.topics.get(name);
  }

  names(): string[] {
    return [...this.topics.keys()].sort();
  }

  /** Kafka refuses a topic whose name equals an existing one once '.' and '_' are treated alike. */
  collidingWith(name: string): string | undefined {
    const key = name.replaceAll('.', '_');
    for (const existing of this.topics.keys()) {
      if (existing !== name && existing.replaceAll('.', '_') === key) return existing;
    }
    return undefined;
  }

  /** Round-robin placement with a rotating start, like Kafka's rack-unaware replica assignment. */
  assignReplicas(count: number, replicationFactor: number, firstPartition = 0): number[][] {
    const n = this.brokerIds.length;
    const start = this.assignmentCursor++ % n;
    const out: number[][] = [];
    for (let p = firstPartition; p < firstPartition + count; p++) {
      const replicas: number[] = [];
      for (let r = 0; r < replicationFactor; r++) replicas.push(this.brokerIds[(start + p + r) % n]!);
      out.push(replicas);
    }
    return out;
  }

  create(
    name: string,
    assignment: readonly (readonly number[])[],
    config: ReadonlyMap<string, string>,
  ): void {
    this.topics.set(name, {
      name,
      topicId: randomUUID(),
      partitions: assignment.map((replicas, partition) => partitionState(partition, replicas)),
      config: new Map(config),
    });
  }

  delete(name: string): boolean {
    return this.topics.delete(name);
  }

  addPartitions(name: string, assignment: readonly (readonly number[])[]): void {
    const topic = this.topics.get(name);
    if (!topic) throw new Error(`no topic ${name}`);
    const first = topic.partitions.length;
    assignment.forEach((replicas, i) => {
      topic.partitions.push(partitionState(first + i, replicas));
    });
  }

  snapshot(): TopicSnapshot[] {
    return this.names().map((name) => {
      const t = this.topics.get(name)!;
      return {
        name,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({ ...p, replicas: [...p.replicas], isr: [...p.isr] })),
        replicationFactor: t.partitions[0]?.replicas.length ?? 0,
        config: Object.fromEntries([...t.config.entries()].sort(([a], [b]) => a.localeCompare(b))),
      };
    });
  }
}

function partitionState(partition: number, replicas: readonly number[]): PartitionState {
  return { partition, leader: replicas[0] ?? -1, replicas: [...replicas], isr: [...replicas] };
}
