import { Router, type RouterMiddleware } from '@koa/router';
import type { KitContext, KitState, Middleware } from './context.ts';
import { jsonBody } from './json-body.ts';
import {
  badRequest,
  type FieldError,
  methodNotAllowed,
  notFound,
  Problem,
  unprocessable,
} from './problem.ts';
import { RequestState } from './request-state.ts';
import type { Route } from './route.ts';
import { isThenable } from './thenable.ts';
import { timeout } from './timeout.ts';
import { fieldErrors } from './validation.ts';

export interface RouterOptions {
  bodyLimitBytes: number;
  requestTimeoutMs: number;
}

/**
 * Mounts routes: each gets its timeout, its own middleware, body parsing and validation, then
 * its handler. Requests that match no route get 404, a known path with another method 405.
 */
export function routes(list: Route[], options: RouterOptions): Middleware {
  const router = new Router<KitState>();
  const seen = new Set<string>();
  for (const route of list) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new Error(`route declared twice: ${key}`);
    seen.add(key);
    router.register(
      route.path,
      [route.method],
      [routeMiddleware(route, options) as RouterMiddleware<KitState>],
      {
        name: route.name,
      },
    );
  }
  const dispatch = router.routes() as unknown as Middleware;
  const allowed = router.allowedMethods() as unknown as Middleware;
  // Reached only when no route matched.
  const unmatched = async (ctx: KitContext, next: () => Promise<unknown>) => {
    await allowed(ctx, next);
    if (ctx.status === 405) {
      throw methodNotAllowed((ctx.response.get('Allow') || '').split(/,\s*/).filter(Boolean));
    }
    if (ctx.status === 404 && ctx.body == null) throw notFound(`no route for ${ctx.method} ${ctx.path}`);
  };
  return (ctx, next) => dispatch(ctx, () => unmatched(ctx, next));
}

/** A route as one middleware: its label, its timeout around its own middleware, body parsing and handler. */
function routeMiddleware(route: Route, options: RouterOptions): Middleware {
  const chain: Middleware[] = [...(route.use ?? [])];
  if (route.body) chain.push(jsonBody(options.bodyLimitBytes));
  chain.push(handle(route));
  const inner = chain.reduceRight((rest, outer) => (ctx, next) => outer(ctx, () => rest(ctx, next)));
  const ms = route.timeoutMs ?? options.requestTimeoutMs;
  const run = ms > 0 ? timeout(ms, inner) : inner;
  const path = route.path;
  return (ctx, next) => {
    ctx.state.route = path;
    return run(ctx, next);
  };
}

type Part = 'params' | 'query' | 'body';

/** Validates every part, so one answer names all offending fields, in the body and elsewhere. */
function validate(route: Route, ctx: KitContext): Record<Part, unknown> {
  const output: Record<Part, unknown> = { params: undefined, query: undefined, body: undefined };
  if (!route.params && !route.query && !route.body) return output;
  const input: Record<Part, unknown> = {
    params: (ctx as unknown as { params: unknown }).params,
    query: ctx.query,
    body: ctx.request.body,
  };
  const errors: FieldError[] = [];
  for (const part of ['params', 'query', 'body'] as const) {
    const schema = route[part];
    if (!schema) continue;
    const result = schema.safeParse(input[part]);
    if (result.success) output[part] = result.data;
    else errors.push(...fieldErrors(part, result.error));
  }
  if (errors.some((error) => error.in !== 'body')) throw badRequest('invalid request parameters', errors);
  if (errors.length > 0) throw unprocessable('request body failed validation', errors);
  return output;
}

const replyWith = (status: number, body?: unknown, headers?: Record<string, string>) => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});

/**
 * A body goes out through its declared schema: fields it does not declare (a password hash on a
 * database row) are dropped, and a body that breaks the declaration is a bug, so a 500.
 */
function serialize(route: Route, status: number, body: unknown): unknown {
  const schema = route.responses[status]?.body;
  if (!schema) return body;
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const fields = fieldErrors('body', result.error)
    .map((e) => `${e.field || '(root)'}: ${e.message}`)
    .join('; ');
  throw new Error(`route ${route.name} answered a ${status} body that breaks its declaration: ${fields}`);
}

function handle(route: Route): Middleware {
  return (ctx: KitContext) => {
    const { params, query, body } = validate(route, ctx);
    const result = route.handler({ params, query, body, ctx, reply: replyWith });
    // A handler that answered synchronously is not made to wait for a microtask.
    if (isThenable(result))
      return Promise.resolve(result).then((reply) => answer(route, ctx, reply as Answer));
    answer(route, ctx, result as Answer);
    return undefined;
  };
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

function answer(route: Route, ctx: KitContext, result: Answer): void {
  if (!result || abandoned(ctx)) return;
  if (!(result.status in route.responses)) {
    throw new Error(`route ${route.name} answered ${result.status}, which it does not declare`);
  }
  // An error status without a body of its own still answers a problem document.
  if (result.status >= 400 && result.body === undefined) {
    throw new Problem(result.status, result.headers ? { headers: result.headers } : {});
  }
  if (result.headers) ctx.set(result.headers);
  ctx.status = result.status;
  if (result.body !== undefined) ctx.body = serialize(route, result.status, result.body);
}

/** The request timed out or its client left: it has been answered already, or never will be. */
function abandoned(ctx: KitContext): boolean {
  const state = ctx.state;
  return state instanceof RequestState ? state.abandoned : state.signal?.aborted === true;
}
