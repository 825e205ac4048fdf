import { STATUS_CODES } from 'node:http';

/** One offending input, named so a client can show it next to the field. */
export interface FieldError {
  /** Where the value came from. */
  in: 'body' | 'query' | 'params' | 'headers';
  /** JSON Pointer into that part of the request (`/items/0/qty`; `` for the whole of it). */
  pointer: string;
  /** Dotted path, easier to read (`items.0.qty`). */
  field: string;
  message: string;
}

export interface ProblemInit {
  /** URI naming the problem type; `about:blank` means "what the status code says". */
  type?: string;
  title?: string;
  /** Shown to the client. Never put internals here. */
  detail?: string;
  headers?: Record<string, string>;
  /** Extra members of the problem document (RFC 9457 extensions). */
  extensions?: Record<string, unknown>;
  /** Internal message for logs; defaults to detail or title. */
  message?: string;
  cause?: unknown;
}

/**
 * An error that is meant to reach the client as an RFC 9457 problem+json document.
 * Anything thrown that is not a Problem becomes an opaque 500.
 */
export class Problem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, init: ProblemInit = {}) {
    const title = init.title ?? STATUS_CODES[status] ?? 'Error';
    super(init.message ?? init.detail ?? title, { cause: init.cause });
    this.name = 'Problem';
    this.status = status;
    this.type = init.type ?? 'about:blank';
    this.title = title;
    this.detail = init.detail;
    this.headers = init.headers ?? {};
    this.extensions = init.extensions ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
    };
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://souk.dev/problems';

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new Problem(400, {
    detail,
    ...(errors ? { type: `${TYPE_BASE}/invalid-request`, extensions: { errors } } : {}),
  });
export const unauthorized = (detail = 'authentication required', challenge = 'Bearer') =>
  new Problem(401, { detail, headers: { 'WWW-Authenticate': challenge } });
export const forbidden = (detail = 'not allowed') => new Problem(403, { detail });
export const notFound = (detail?: string) => new Problem(404, detail === undefined ? {} : { detail });
export const methodNotAllowed = (allow: string[]) =>
  new Problem(405, { detail: `allowed: ${allow.join(', ')}`, headers: { Allow: allow.join(', ') } });
export const conflict = (detail: string, extensions?: Record<string, unknown>) =>
  new Problem(409, { detail, ...(extensions ? { extensions } : {}) });
export const payloadTooLarge = (limitBytes: number) =>
  new Problem(413, { detail: `request body exceeds ${limitBytes} bytes`, extensions: { limit: limitBytes } });
export const unsupportedMediaType = (accepted: string[]) =>
  new Problem(415, { detail: `expected content type ${accepted.join(' or ')}` });
export const unprocessable = (detail: string, errors: FieldError[]) =>
  new Problem(422, { type: `${TYPE_BASE}/validation`, detail, extensions: { errors } });
export const tooManyRequests = (retryAfterSeconds: number, detail = 'rate limit exceeded') =>
  new Problem(429, { detail, headers: { 'Retry-After': String(Math.max(0, Math.ceil(retryAfterSeconds))) } });
export const serviceUnavailable = (detail: string, retryAfterSeconds?: number, cause?: unknown) =>
  new Problem(503, {
    detail,
    cause,
    ...(retryAfterSeconds === undefined
      ? {}
      : { headers: { 'Retry-After': String(Math.ceil(retryAfterSeconds)) } }),
  });
