import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { conflict, tooManyRequests } from '../src/problem.ts';
import { defineRoute } from '../src/route.ts';
import { startKit } from './helpers.ts';

const Item = z.object({
  sku: z.string().min(3),
  qty: z.number().int().positive(),
  tags: z.array(z.string()).max(2),
});

const routes = [
  defineRoute({
    method: 'POST',
    path: '/items',
    name: 'createItem',
    body: Item,
    responses: { 201: { description: 'Created', body: Item }, 409: { description: 'SKU taken' } },
    handler: ({ body, reply }) => {
      if (body.sku === 'taken') throw conflict('sku already exists', { sku: body.sku });
      return reply(201, body);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/items/:id',
    name: 'getItem',
    params: z.object({ id: z.coerce.number().int().positive() }),
    query: z.object({ fields: z.enum(['all', 'short']).default('all') }),
    responses: {
      200: { description: 'The item', body: z.object({ id: z.number(), fields: z.string() }) },
      404: { description: 'No such item' },
    },
    handler: ({ params, query, reply }) =>
      params.id === 404 ? reply(404) : reply(200, { id: params.id, fields: query.fields }),
  }),
  defineRoute({
    method: 'GET',
    path: '/limited',
    name: 'limited',
    responses: { 200: { description: 'ok' }, 429: { description: 'Too many' } },
    handler: () => {
      throw tooManyRequests(7);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/boom',
    name: 'boom',
    responses: { 200: { description: 'never' } },
    handler: () => {
      throw new Error('db password is hunter2');
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/me',
    name: 'me',
    query: z.object({ broken: z.enum(['yes', 'no']).default('no') }),
    responses: { 200: { description: 'The account', body: z.object({ id: z.number(), email: z.email() }) } },
    handler: ({ query, reply }) => {
      const row = { id: 1, email: 'a@souk.dev', passwordHash: '$argon2id$secret' };
      if (query.broken === 'yes') return reply(200, { ...row, email: 'not an email' });
      return reply(200, row);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/undeclared',
    name: 'undeclared',
    responses: { 200: { description: 'ok' } },
    handler: () => ({ status: 202 }),
  }),
  defineRoute({
    method: 'GET',
    path: '/stuck',
    name: 'stuck',
    timeoutMs: 100,
    responses: { 200: { description: 'never in time' } },
    handler: async ({ ctx }) => {
      await new Promise((resolve) => ctx.state.signal?.addEventListener('abort', resolve));
      return { status: 200 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/signal',
    name: 'signal',
    body: z.object({ waitMs: z.number().int().max(1000) }),
    responses: {
      200: { description: 'Whether the signal was aborted', body: z.object({ aborted: z.boolean() }) },
    },
    handler: async ({ body, ctx, reply }) => {
      await new Promise((resolve) => setTimeout(resolve, body.waitMs));
      return reply(200, { aborted: ctx.state.signal?.aborted ?? true });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/hang',
    name: 'hang',
    responses: { 200: { description: 'never' } },
    handler: async ({ ctx }) => {
      await new Promise((resolve) => ctx.state.signal?.addEventListener('abort', resolve));
      clientGone = String((ctx.state.signal?.reason as Error | undefined)?.message);
      return undefined;
    },
  }),
];
let clientGone = '';

const kit = await startKit(routes, { env: { BODY_LIMIT_BYTES: '1024' } });

async function problemOf(res: Response) {
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  assert.is(body['status'], res.status);
  assert.type(body['title'], 'string');
  assert.type(body['type'], 'string');
  assert.is(body['requestId'], res.headers.get('x-request-id'));
  return body;
}

const post = (body: string, contentType = 'application/json') =>
  fetch(`${kit.url}/items`, { method: 'POST', headers: { 'content-type': contentType }, body });

const errors = suite('problem+json answers');

errors('a valid request is answered by its handler', async () => {
  const res = await post(JSON.stringify({ sku: 'abc', qty: 2, tags: [] }));
  assert.is(res.status, 201);
  assert.equal(await res.json(), { sku: 'abc', qty: 2, tags: [] });
});

errors('malformed JSON is a 400, not a 500', async () => {
  const res = await post('{"sku": "abc", ');
  assert.is(res.status, 400);
  const body = await problemOf(res);
  assert.match(String(body['detail']), /not valid JSON/);
});

errors('an oversized body is a 413 naming the limit', async () => {
  const res = await post(JSON.stringify({ sku: 'x'.repeat(2000), qty: 1, tags: [] }));
  assert.is(res.status, 413);
  const body = await problemOf(res);
  assert.is(body['limit'], 1024);
});

errors('an oversized chunked body without Content-Length is a 413 too', async () => {
  const chunks = [JSON.stringify({ sku: 'x'.repeat(2000), qty: 1, tags: [] })];
  const stream = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  const res = await fetch(`${kit.url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.is(res.status, 413);
  await problemOf(res);
});

errors('a wrong content type is a 415', async () => {
  const res = await post('sku=abc&qty=1', 'application/x-www-form-urlencoded');
  assert.is(res.status, 415);
  const body = await problemOf(res);
  assert.match(String(body['detail']), /application\/json/);
});

errors('an invalid body is a 422 naming every offending field', async () => {
  const res = await post(JSON.stringify({ sku: 'a', qty: -1, tags: ['a', 'b', 'c'], extra: true }));
  assert.is(res.status, 422);
  const body = await problemOf(res);
  const fieldErrors = body['errors'] as { in: string; pointer: string; field: string; message: string }[];
  assert.equal(fieldErrors.map((e) => e.field).sort(), ['qty', 'sku', 'tags']);
  const qty = fieldErrors.find((e) => e.field === 'qty');
  assert.is(qty?.in, 'body');
  assert.is(qty?.pointer, '/qty');
  assert.type(qty?.message, 'string');
});

errors('a missing body on a route that needs one is a 422', async () => {
  const res = await fetch(`${kit.url}/items`, { method: 'POST' });
  assert.is(res.status, 422);
  await problemOf(res);
});

errors('invalid path and query parameters are a 400 naming them', async () => {
  const res = await fetch(`${kit.url}/items/abc?fields=everything`);
  assert.is(res.status, 400);
  const body = await problemOf(res);
  const fieldErrors = body['errors'] as { in: string; field: string }[];
  assert.equal(fieldErrors.map((e) => `${e.in}:${e.field}`).sort(), ['params:id', 'query:fields']);
});

errors('valid params and query are coerced and typed', async () => {
  const res = await fetch(`${kit.url}/items/42?fields=short`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { id: 42, fields: 'short' });
});

errors('an unknown route is a 404', async () => {
  const res = await fetch(`${kit.url}/nothing/here`);
  assert.is(res.status, 404);
  const body = await problemOf(res);
  assert.is(body['instance'], '/nothing/here');
});

errors('a handler answering an error status without a body sends a problem document', async () => {
  const res = await fetch(`${kit.url}/items/404`);
  assert.is(res.status, 404);
  const body = await problemOf(res);
  assert.is(body['detail'], undefined, 'not the no-route detail');
});

errors('a wrong method is a 405 with Allow', async () => {
  const res = await fetch(`${kit.url}/items/1`, { method: 'DELETE' });
  assert.is(res.status, 405);
  assert.match(res.headers.get('allow') ?? '', /GET/);
  await problemOf(res);
});

errors('a domain conflict is a 409 with its extension members', async () => {
  const res = await post(JSON.stringify({ sku: 'taken', qty: 1, tags: [] }));
  assert.is(res.status, 409);
  const body = await problemOf(res);
  assert.is(body['sku'], 'taken');
});

errors('a rate limit is a 429 with Retry-After', async () => {
  const res = await fetch(`${kit.url}/limited`);
  assert.is(res.status, 429);
  assert.is(res.headers.get('retry-after'), '7');
  await problemOf(res);
});

errors('an unknown error is a 500 whose id is in the log, with no stack or message', async () => {
  const res = await fetch(`${kit.url}/boom`);
  assert.is(res.status, 500);
  const text = await res.clone().text();
  const body = await problemOf(res);
  assert.type(body['errorId'], 'string');
  assert.not.match(text, /hunter2/);
  assert.not.match(text, /at .*\.ts:\d+/);
  assert.not.ok('stack' in body);
  const line = kit.logs.find((l) => l['error_id'] === body['errorId']);
  assert.ok(line, 'the error id is in a log line');
  assert.is(line?.level, 'error');
  assert.match(JSON.stringify(line?.['err']), /hunter2/);
  assert.is(line?.['request_id'], body['requestId']);
});

errors('a status the route does not declare is a 500', async () => {
  const res = await fetch(`${kit.url}/undeclared`);
  assert.is(res.status, 500);
  await problemOf(res);
});

errors('response bodies go out through their declared schema', async () => {
  const res = await fetch(`${kit.url}/me`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { id: 1, email: 'a@souk.dev' }, 'undeclared fields are dropped');

  const broken = await fetch(`${kit.url}/me?broken=yes`);
  assert.is(broken.status, 500);
  const body = await problemOf(broken);
  assert.not.match(JSON.stringify(body), /not an email|argon2/);
  const line = kit.logs.find((l) => l['error_id'] === body['errorId']);
  assert.match(JSON.stringify(line?.['err']), /breaks its declaration: email/);
});

errors('a request over its timeout is a 503 and its signal is aborted', async () => {
  const res = await fetch(`${kit.url}/stuck`);
  assert.is(res.status, 503);
  const body = await problemOf(res);
  assert.match(String(body['detail']), /100 ms/);
});

errors('the signal stays live after the body is read, and aborts when the client goes away', async () => {
  const res = await fetch(`${kit.url}/signal`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ waitMs: 50 }),
  });
  assert.equal(await res.json(), { aborted: false });

  const controller = new AbortController();
  const pending = fetch(`${kit.url}/hang`, { signal: controller.signal }).catch((e: unknown) => e);
  await new Promise((resolve) => setTimeout(resolve, 100));
  controller.abort();
  await pending;
  const deadline = Date.now() + 5000;
  while (!clientGone && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(clientGone, 'client closed the connection');
});

const headers = suite('request id and security headers');

headers('a sane incoming X-Request-Id is kept and echoed', async () => {
  const res = await fetch(`${kit.url}/livez`, { headers: { 'x-request-id': 'abc-123_x.y' } });
  assert.is(res.headers.get('x-request-id'), 'abc-123_x.y');
});

headers('an insane X-Request-Id is replaced', async () => {
  const res = await fetch(`${kit.url}/livez`, { headers: { 'x-request-id': 'a b<script>' } });
  const id = res.headers.get('x-request-id') ?? '';
  assert.match(id, /^[0-9a-f-]{36}$/);
});

headers('security headers are on every answer, errors too', async () => {
  for (const path of ['/livez', '/nothing']) {
    const res = await fetch(`${kit.url}${path}`);
    assert.is(res.headers.get('x-content-type-options'), 'nosniff');
    assert.is(res.headers.get('x-frame-options'), 'DENY');
    assert.ok(res.headers.get('content-security-policy'));
  }
});

headers('log lines are JSON carrying the request id', async () => {
  const res = await fetch(`${kit.url}/items/7`, { headers: { 'x-request-id': 'log-check-1' } });
  assert.is(res.status, 200);
  const line = kit.logs.find((l) => l['request_id'] === 'log-check-1' && l.msg === 'request');
  assert.ok(line);
  assert.is(line?.['route'], '/items/:id');
  assert.is(line?.['path'], '/items/7');
  assert.is(line?.['status'], 200);

  await fetch(`${kit.url}/livez`, { headers: { 'x-request-id': 'log-check-2' } });
  assert.not.ok(
    kit.logs.some((l) => l['request_id'] === 'log-check-2'),
    'successful probes are logged at debug only',
  );
});

errors.after(() => {});
headers.after(() => kit.stop());
errors.run();
headers.run();
