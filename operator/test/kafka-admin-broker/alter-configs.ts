import { type ApiHandler, ApiKey, type RequestContext } from './api.ts';
import { ResourceType } from './config-resource.ts';
import { Encoder } from './encoder.ts';
import { ApiError, ErrorCode } from './errors.ts';
import { validateTopicConfig } from './topic-configs.ts';

interface AlterResource {
  readonly type: number;
  readonly name: string;
  readonly entries: readonly { readonly name: string; readonly value: string | null }[];
}

/**
 * AlterConfigs v0-v1 for topic resources. Like the real (non-incremental) AlterConfigs, the entries
 * replace the topic's whole dynamic config: anything not named goes back to its default.
 */
export const alterConfigs: ApiHandler = {
  apiKey: ApiKey.AlterConfigs,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, _version, req) {
    const resources = req.readArray(
      (d): AlterResource => ({
        type: d.readInt8(),
        name: d.readString(),
        entries: d.readArray((c) => ({ name: c.readString(), value: c.readNullableString() })),
      }),
    );
    const validateOnly = req.readBoolean();
    const counts = new Map<string, number>();
    for (const r of resources)
      counts.set(`${r.type}/${r.name}`, (counts.get(`${r.type}/${r.name}`) ?? 0) + 1);

    const results = resources.map((r) => {
      try {
        if ((counts.get(`${r.type}/${r.name}`) ?? 0) > 1) {
          throw new ApiError(ErrorCode.INVALID_REQUEST, 'Duplicate resource in request.');
        }
        alterTopic(ctx, r, validateOnly);
        return { ...r, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null };
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        return { ...r, errorCode: err.code as number, errorMessage: err.message as string | null };
      }
    });

    return new Encoder().writeInt32(0).writeArray(results, (w, r) => {
      w.writeInt16(r.errorCode).writeNullableString(r.errorMessage).writeInt8(r.type).writeString(r.name);
    });
  },
};

function alterTopic(ctx: RequestContext, r: AlterResource, validateOnly: boolean): void {
  if (r.type !== ResourceType.TOPIC) {
    throw new ApiError(ErrorCode.INVALID_REQUEST, `Resource type ${r.type} is not supported by this broker.`);
  }
  const topic = ctx.store.get(r.name);
  if (!topic) throw new ApiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${r.name} does not exist.`);
  const next = new Map<string, string>();
  for (const { name, value } of r.entries) {
    if (value === null)
      throw new ApiError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${name}`);
    const problem = validateTopicConfig(name, value);
    if (problem) throw new ApiError(ErrorCode.INVALID_CONFIG, problem);
    next.set(name, value.trim());
  }
  if (!validateOnly) topic.config = next;
}
