import { randomUUID } from 'node:crypto';
import type { KitContext } from './context.ts';
import { PROBLEM_CONTENT_TYPE, Problem } from './problem.ts';

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  headers?: unknown;
}

/**
 * Turns whatever a route threw into problem+json. A Problem is sent as it is; a client error
 * raised by Koa or one of its middleware (status 4xx, `expose`) keeps its status; anything else
 * becomes a 500 whose `errorId` is also in the log line, and nothing of the error leaks out.
 */
export function answerError(ctx: KitContext, error: unknown): void {
  if (ctx.headerSent) {
    // Too late for a problem document: the client sees a cut response.
    ctx.state.log.error({ err: error }, 'error after the response started');
    return;
  }
  const problem = toProblem(error);
  if (problem.status >= 500 && !(error instanceof Problem)) {
    const errorId = randomUUID();
    ctx.state.log.error({ err: error, error_id: errorId }, 'unhandled error');
    send(ctx, new Problem(500, { detail: 'internal error', extensions: { errorId } }));
    return;
  }
  if (problem.status >= 500) ctx.state.log.warn({ err: error, status: problem.status }, problem.message);
  send(ctx, problem);
}

function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  const e = (error ?? {}) as HttpLikeError;
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500 && e.expose === true) {
    const message = error instanceof Error ? error.message : undefined;
    const headers =
      e.headers && typeof e.headers === 'object' ? (e.headers as Record<string, string>) : undefined;
    return new Problem(status, { ...(message ? { detail: message } : {}), ...(headers ? { headers } : {}) });
  }
  return new Problem(500);
}

function send(ctx: KitContext, problem: Problem): void {
  ctx.set(problem.headers);
  ctx.set('Cache-Control', 'no-store');
  ctx.status = problem.status;
  ctx.body = { ...problem.toJSON(), instance: ctx.path, requestId: ctx.state.requestId };
  ctx.type = PROBLEM_CONTENT_TYPE;
}
