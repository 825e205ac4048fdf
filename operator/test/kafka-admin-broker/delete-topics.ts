import { type ApiHandler, ApiKey } from './api.ts';
import { Encoder } from './encoder.ts';
import { ErrorCode } from './errors.ts';

/** DeleteTopics v0-v1. delete.topic.enable is true; deletion completes before the response. */
export const deleteTopics: ApiHandler = {
  apiKey: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, version, req) {
    const names = req.readArray((d) => d.readString());
    req.readInt32(); // timeout_ms
    const counts = new Map<string, number>();
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);

    const results = names.map((name) => {
      if ((counts.get(name) ?? 0) > 1) return { name, errorCode: ErrorCode.INVALID_REQUEST };
      if (!ctx.store.delete(name)) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      return { name, errorCode: ErrorCode.NONE };
    });

    const e = new Encoder();
    if (version >= 1) e.writeInt32(0);
    e.writeArray(results, (w, r) => w.writeString(r.name).writeInt16(r.errorCode));
    return e;
  },
};
