import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { defineRoute } from '../src/route.ts';
import { startKit } from './helpers.ts';

const routes = [
  defineRoute({
    method: 'POST',
    path: '/orders',
    name: 'placeOrder',
    body: z.object({ sku: z.string() }),
    responses: { 201: { description: 'Placed' } },
    handler: ({ reply }) => reply(201),
  }),
];

const cors = suite('CORS');

cors('allowed origins get CORS headers, others none, errors included', async () => {
  const kit = await startKit(routes, {
    env: { CORS_ORIGINS: 'https://shop.example, https://admin.example' },
  });
  try {
    const allowed = await fetch(`${kit.url}/orders`, {
      method: 'POST',
      headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
      body: '{"sku":"a"}',
    });
    assert.is(allowed.status, 201);
    assert.is(allowed.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(allowed.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/);

    const rejected = await fetch(`${kit.url}/orders`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: '{"sku":"a"}',
    });
    assert.is(rejected.headers.get('access-control-allow-origin'), null);

    const problem = await fetch(`${kit.url}/orders`, {
      method: 'POST',
      headers: { origin: 'https://admin.example', 'content-type': 'application/json' },
      body: '{',
    });
    assert.is(problem.status, 400);
    assert.is(problem.headers.get('access-control-allow-origin'), 'https://admin.example');

    const preflight = await fetch(`${kit.url}/orders`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, idempotency-key',
      },
    });
    assert.is(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Idempotency-Key/);
  } finally {
    await kit.stop();
  }
});

cors('without CORS_ORIGINS there are no CORS headers at all', async () => {
  const kit = await startKit(routes);
  try {
    const res = await fetch(`${kit.url}/livez`, { headers: { origin: 'https://shop.example' } });
    assert.is(res.headers.get('access-control-allow-origin'), null);
  } finally {
    await kit.stop();
  }
});

cors.run();
