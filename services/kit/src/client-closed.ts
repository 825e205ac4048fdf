import type { KitContext } from './context.ts';

/**
 * nginx's status for a request whose client went away before the answer. Never sent (nobody is
 * left to read it): it is what the access line, the metrics and the span record.
 */
export const CLIENT_CLOSED_REQUEST = 499;

/** What a request's signal aborts with when its client closes the connection. */
export class ClientClosedRequestError extends Error {
  override name = 'ClientClosedRequestError';
  constructor() {
    super('client closed the connection');
  }
}

/** Errors of writing to, or reading from, a connection the client closed. */
const CLOSED_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

/** Whether the client closed the connection before the response was complete. */
export function clientLeft(ctx: KitContext): boolean {
  const { req, res } = ctx;
  if (res.writableFinished) return false;
  return res.destroyed || req.socket?.destroyed === true || req.aborted;
}

/**
 * Whether `error` is the request's abandonment rather than a failure of its own: the abort
 * reason the kit gives a request whose client left, or an abort or closed-connection error
 * thrown once the client has left.
 */
export function isClientClosed(ctx: KitContext, error: unknown): boolean {
  if (error instanceof ClientClosedRequestError) return true;
  if (!clientLeft(ctx)) return false;
  const e = error as { name?: unknown; code?: unknown } | null;
  return (
    e?.name === 'AbortError' ||
    (typeof e?.code === 'string' && CLOSED_CODES.has(e.code)) ||
    (error !== undefined && error === ctx.state.signal?.reason)
  );
}
