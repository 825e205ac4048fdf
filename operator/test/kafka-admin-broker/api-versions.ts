import { type ApiHandler, ApiKey } from './api.ts';
import { Encoder } from './encoder.ts';
import { ErrorCode } from './errors.ts';

/**
 * ApiVersions v0-v2 (v3 is flexible). A request at a version the broker does not know is answered in the
 * v0 layout with UNSUPPORTED_VERSION and the supported ranges, so the client can retry lower; the
 * connection layer routes such requests here.
 */
export const apiVersions: ApiHandler = {
  apiKey: ApiKey.ApiVersions,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, version) {
    return encodeApiVersions(ctx.handlers, version, ErrorCode.NONE);
  },
};

export function encodeApiVersions(
  handlers: readonly ApiHandler[],
  version: number,
  errorCode: number,
): Encoder {
  const e = new Encoder().writeInt16(errorCode);
  const sorted = [...handlers].sort((a, b) => a.apiKey - b.apiKey);
  e.writeArray(sorted, (w, h) => w.writeInt16(h.apiKey).writeInt16(h.minVersion).writeInt16(h.maxVersion));
  if (version >= 1 && errorCode === ErrorCode.NONE) e.writeInt32(0);
  return e;
}
