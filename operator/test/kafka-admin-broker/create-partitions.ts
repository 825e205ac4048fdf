import { type ApiHandler, ApiKey, type RequestContext } from './api.ts';
import { Encoder } from './encoder.ts';
import { ApiError, ErrorCode } from './errors.ts';

interface PartitionRequest {
  readonly name: string;
  readonly count: number;
  readonly assignments: readonly (readonly number[])[] | null;
}

/** CreatePartitions v0-v1: partitions can only grow. */
export const createPartitions: ApiHandler = {
  apiKey: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, _version, req) {
    const topics = req.readArray(
      (d): PartitionRequest => ({
        name: d.readString(),
        count: d.readInt32(),
        assignments: d.readNullableArray((a) => a.readArray((b) => b.readInt32())),
      }),
    );
    req.readInt32(); // timeout_ms
    const validateOnly = req.readBoolean();
    const counts = new Map<string, number>();
    for (const t of topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);

    const results = topics.map((t) => {
      try {
        if ((counts.get(t.name) ?? 0) > 1)
          throw new ApiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic in request.');
        growOne(ctx, t, validateOnly);
        return { name: t.name, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null };
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        return { name: t.name, errorCode: err.code as number, errorMessage: err.message as string | null };
      }
    });

    return new Encoder()
      .writeInt32(0)
      .writeArray(results, (w, r) =>
        w.writeString(r.name).writeInt16(r.errorCode).writeNullableString(r.errorMessage),
      );
  },
};

function growOne(ctx: RequestContext, req: PartitionRequest, validateOnly: boolean): void {
  const topic = ctx.store.get(req.name);
  if (!topic) {
    throw new ApiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${req.name}' does not exist.`);
  }
  const current = topic.partitions.length;
  if (req.count < current) {
    throw new ApiError(
      ErrorCode.INVALID_PARTITIONS,
      `Topic currently has ${current} partitions, which is higher than the requested ${req.count}.`,
    );
  }
  if (req.count === current) {
    throw new ApiError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
  }
  const additional = req.count - current;
  const rf = topic.partitions[0]?.replicas.length ?? 1;
  let assignment: number[][];
  if (req.assignments !== null) {
    if (req.assignments.length !== additional) {
      throw new ApiError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Increasing the number of partitions by ${additional} but ${req.assignments.length} assignments provided.`,
      );
    }
    assignment = req.assignments.map((brokerIds, i) => {
      if (brokerIds.length !== rf || new Set(brokerIds).size !== brokerIds.length) {
        throw new ApiError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Inconsistent replication factor between partitions, partition 0 has ${rf} while partition ${current + i} has replicas ${brokerIds.join(',')}.`,
        );
      }
      const unknown = brokerIds.find((b) => !ctx.store.brokerIds.includes(b));
      if (unknown !== undefined) {
        throw new ApiError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Unknown broker(s) in replica assignment: ${unknown}.`,
        );
      }
      return [...brokerIds];
    });
  } else {
    assignment = ctx.store.assignReplicas(additional, rf, current);
  }
  if (!validateOnly) ctx.store.addPartitions(req.name, assignment);
}
