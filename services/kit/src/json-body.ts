import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from './context.ts';
import { badRequest, Problem, payloadTooLarge, unsupportedMediaType } from './problem.ts';

const JSON_TYPES = ['application/json', '+json'];

/**
 * Reads a JSON request body into `ctx.request.body`, answering 415 for another content type,
 * 413 beyond `limitBytes` and 400 for JSON that does not parse. Mounted only on routes with a body.
 */
export function jsonBody(limitBytes: number): Middleware {
  const parse = bodyParser({
    enableTypes: ['json'],
    extendTypes: { json: JSON_TYPES },
    jsonLimit: limitBytes,
    jsonStrict: false,
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    onError(error) {
      const status = (error as { status?: number }).status;
      if (status === 413) throw payloadTooLarge(limitBytes);
      if (status === 415) throw unsupportedMediaType(['application/json']);
      if (status !== undefined && status >= 400 && status < 500)
        throw badRequest('request body is not valid JSON');
      throw error;
    },
  });
  return async (ctx, next) => {
    if (!ctx.request.length && ctx.get('Transfer-Encoding') === '') {
      ctx.request.body = undefined;
      return next();
    }
    if (!ctx.is(JSON_TYPES)) throw unsupportedMediaType(['application/json']);
    const declared = ctx.request.length;
    if (declared !== undefined && declared > limitBytes) throw payloadTooLarge(limitBytes);
    await parse(ctx, async () => {});
    if (ctx.status === 499)
      throw new Problem(400, { detail: 'request aborted', message: 'client aborted the body' });
    await next();
  };
}
