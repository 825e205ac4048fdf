import type { Socket } from 'node:net';
import { type ApiHandler, ApiKey, type RequestContext } from './api.ts';
import { encodeApiVersions } from './api-versions.ts';
import { Decoder } from './decoder.ts';
import type { Encoder } from './encoder.ts';
import { ErrorCode } from './errors.ts';

const MAX_FRAME_BYTES = 100 * 1024 * 1024;

export interface ConnectionOptions {
  readonly context: RequestContext;
  readonly onRequest: (apiKey: number, apiVersion: number) => void;
}

/**
 * One client connection: size-prefixed frames in, one response frame per request, in request order.
 * Request header v1 (api_key, api_version, correlation_id, client_id); response header v0 (correlation_id).
 * Like a real broker, a request it cannot parse, or for an API or version it does not support (other than
 * ApiVersions), closes the connection.
 */
export function serveConnection(socket: Socket, options: ConnectionOptions): void {
  const byKey = new Map<number, ApiHandler>(options.context.handlers.map((h) => [h.apiKey, h]));
  let buffered: Buffer = Buffer.alloc(0);

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const size = buffered.readInt32BE(0);
      if (size < 0 || size > MAX_FRAME_BYTES) {
        socket.destroy();
        return;
      }
      if (buffered.length < 4 + size) return;
      const frame = buffered.subarray(4, 4 + size);
      buffered = buffered.subarray(4 + size);
      const response = handleFrame(frame, byKey, options);
      if (response === null) {
        socket.destroy();
        return;
      }
      socket.write(response);
    }
  });
  socket.on('error', () => socket.destroy());
}

function handleFrame(
  frame: Buffer,
  byKey: Map<number, ApiHandler>,
  options: ConnectionOptions,
): Buffer | null {
  try {
    const req = new Decoder(frame);
    const apiKey = req.readInt16();
    const apiVersion = req.readInt16();
    const correlationId = req.readInt32();
    req.readNullableString(); // client_id
    options.onRequest(apiKey, apiVersion);

    const handler = byKey.get(apiKey);
    let body: Encoder;
    if (handler && apiVersion >= handler.minVersion && apiVersion <= handler.maxVersion) {
      body = handler.handle(options.context, apiVersion, req);
    } else if (apiKey === ApiKey.ApiVersions) {
      body = encodeApiVersions(options.context.handlers, 0, ErrorCode.UNSUPPORTED_VERSION);
    } else {
      return null;
    }
    const payload = body.toBuffer();
    const out = Buffer.allocUnsafe(8 + payload.length);
    out.writeInt32BE(4 + payload.length, 0);
    out.writeInt32BE(correlationId, 4);
    payload.copy(out, 8);
    return out;
  } catch (err) {
    if (!(err instanceof RangeError)) console.error('kafka-admin-broker: request failed', err);
    return null;
  }
}
