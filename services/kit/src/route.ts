import type { z } from 'zod';
import type { KitContext, Middleware } from './context.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** A declared response: its description for OpenAPI and, when it has one, its body schema. */
export interface ResponseSpec {
  description: string;
  body?: z.ZodType;
  /** Defaults to application/json, or application/problem+json for 4xx/5xx. */
  contentType?: string;
}

export type Responses = Record<number, ResponseSpec>;

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The body types of all declared responses. */
type DeclaredBody<R extends Responses> = {
  [K in keyof R & number]: R[K]['body'] extends z.ZodType ? z.input<R[K]['body']> : undefined;
}[keyof R & number];

/**
 * What a handler may return: one of the declared responses. `reply(status, body)` checks the
 * pair at compile time; a plain `{ status, body }` object gets its body checked against the
 * declared bodies, and its status is checked when the route runs (an undeclared one is a 500).
 */
export type Reply<R extends Responses> =
  | {
      [K in keyof R & number]: R[K]['body'] extends z.ZodType
        ? { status: K; body: z.input<R[K]['body']>; headers?: Record<string, string> }
        : { status: K; body?: undefined; headers?: Record<string, string> };
    }[keyof R & number]
  | { status: number; body?: DeclaredBody<R>; headers?: Record<string, string> };

type BodyArgs<S> = S extends z.ZodType
  ? [body: z.input<S>, headers?: Record<string, string>]
  : [body?: undefined, headers?: Record<string, string>];

/** Builds a declared response: `reply(201, item)`; the status must be declared, the body match it. */
export type ReplyFn<R extends Responses> = <K extends keyof R & number>(
  status: K,
  ...rest: BodyArgs<R[K]['body']>
) => Reply<R>;

export interface RouteInput<P, Q, B, R extends Responses> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  ctx: KitContext;
  reply: ReplyFn<R>;
}

export interface RouteSpec<
  P extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  B extends z.ZodType | undefined,
  R extends Responses,
> {
  method: HttpMethod;
  /** Koa router path template (`/items/:id`); also the `route` label of the HTTP metrics. */
  path: string;
  /** Unique, camelCase; the OpenAPI operationId. */
  name: string;
  summary?: string;
  description?: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  responses: R;
  /** Run before the body is read and validated: auth, rate limiting, ... */
  use?: Middleware[];
  /** Overrides the app's request timeout; 0 disables it (streams). */
  timeoutMs?: number;
  /** Marks the operation as needing a credential in the OpenAPI document (e.g. `bearer`). */
  security?: string[];
  /** Return a declared response, or nothing when the handler wrote to `ctx` itself (streams). */
  handler: (input: RouteInput<P, Q, B, R>) => Promise<Reply<R> | undefined> | Reply<R> | undefined;
}

/** A route with its types erased, as the router and the OpenAPI builder see it. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly name: string;
  readonly summary?: string | undefined;
  readonly description?: string | undefined;
  readonly tags?: string[] | undefined;
  readonly params?: z.ZodType | undefined;
  readonly query?: z.ZodType | undefined;
  readonly body?: z.ZodType | undefined;
  readonly responses: Responses;
  readonly use?: Middleware[] | undefined;
  readonly timeoutMs?: number | undefined;
  readonly security?: string[] | undefined;
  readonly handler: (input: {
    params: unknown;
    query: unknown;
    body: unknown;
    ctx: KitContext;
    reply: (status: number, body?: unknown, headers?: Record<string, string>) => unknown;
  }) => unknown;
}

/** Declares a route; the schemas type the handler's input and feed the OpenAPI document. */
export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends Responses = Responses,
>(spec: RouteSpec<P, Q, B, R>): Route {
  return spec as unknown as Route;
}
