import { type ApiHandler, ApiKey } from './api.ts';
import { Encoder } from './encoder.ts';
import { ErrorCode } from './errors.ts';
import { invalidTopicName } from './topic-name.ts';
import type { PartitionState } from './topic-store.ts';

interface TopicEntry {
  readonly errorCode: number;
  readonly name: string;
  readonly partitions: readonly PartitionState[];
}

/**
 * Metadata v0-v6. auto.create.topics.enable is false on this cluster, so allow_auto_topic_creation
 * (v4+) never creates anything: an unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
 */
export const metadata: ApiHandler = {
  apiKey: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 6,
  handle(ctx, version, req) {
    let requested =
      version === 0 ? req.readArray((d) => d.readString()) : req.readNullableArray((d) => d.readString());
    if (version >= 4) req.readBoolean();
    // v0 has no null: an empty list means every topic.
    if (version === 0 && requested?.length === 0) requested = null;

    const topics: TopicEntry[] = (requested ?? ctx.store.names()).map((name) => {
      if (invalidTopicName(name))
        return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, partitions: [] };
      const topic = ctx.store.get(name);
      if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: [] };
      return { errorCode: ErrorCode.NONE, name, partitions: topic.partitions };
    });

    const e = new Encoder();
    if (version >= 3) e.writeInt32(0);
    e.writeArray(ctx.brokers(), (w, b) => {
      w.writeInt32(b.nodeId).writeString(b.host).writeInt32(b.port);
      if (version >= 1) w.writeNullableString(null);
    });
    if (version >= 2) e.writeNullableString(ctx.clusterId);
    if (version >= 1) e.writeInt32(ctx.controllerId);
    e.writeArray(topics, (w, t) => {
      w.writeInt16(t.errorCode).writeString(t.name);
      if (version >= 1) w.writeBoolean(false);
      w.writeArray(t.partitions, (pw, p) => {
        pw.writeInt16(ErrorCode.NONE).writeInt32(p.partition).writeInt32(p.leader);
        pw.writeInt32Array(p.replicas).writeInt32Array(p.isr);
        if (version >= 5) pw.writeInt32Array([]);
      });
    });
    return e;
  },
};
