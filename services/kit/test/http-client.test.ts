import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { HttpClient, type HttpClientOptions } from '../src/http-client.ts';
import { Metrics } from '../src/metrics.ts';
import { defineRoute } from '../src/route.ts';
import {
  CircuitOpenError,
  UpstreamStatusError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../src/upstream-error.ts';
import { startKit, startUpstream } from './helpers.ts';

const metrics = new Metrics({ service: 'kit-test', defaultMetrics: false });
const clients: HttpClient[] = [];
function client(options: Omit<HttpClientOptions, 'metrics'> = {}): HttpClient {
  const c = new HttpClient({
    metrics,
    backoff: { baseMs: 5, maxMs: 20 },
    breaker: { volumeThreshold: 1000 },
    ...options,
  });
  clients.push(c);
  return c;
}

async function breakerState(target: string): Promise<number | undefined> {
  const text = await metrics.text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('souk_circuit_breaker_state{') && l.includes(`target="${target}"`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

const retries = suite('retries');

retries('idempotent methods are retried, POST only with an Idempotency-Key', async () => {
  const upstream = await startUpstream((_req, res) => res.writeHead(503).end('down'));
  try {
    const c = client({ retries: 2 });
    const cases: [string, Record<string, string> | undefined, number][] = [
      ['GET', undefined, 3],
      ['PUT', undefined, 3],
      ['DELETE', undefined, 3],
      ['POST', undefined, 1],
      ['PATCH', undefined, 1],
      ['POST', { 'Idempotency-Key': 'k-1' }, 3],
    ];
    for (const [method, headers, expected] of cases) {
      const before = upstream.hits();
      const error = await c
        .request(method, `${upstream.url}/thing`, {
          ...(headers ? { headers } : {}),
          ...(method === 'GET' ? {} : { json: { a: 1 } }),
        })
        .catch((e: unknown) => e);
      assert.instance(error, UpstreamStatusError, `${method} fails with a typed error`);
      assert.is((error as UpstreamStatusError).upstreamStatus, 503);
      assert.is(upstream.hits() - before, expected, `${method} ${headers ? 'with key' : ''} hits`);
    }
  } finally {
    await upstream.close();
  }
});

retries('a retried request succeeds once the upstream recovers, with the same body each time', async () => {
  const bodies: string[] = [];
  const upstream = await startUpstream((req, res, hit) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      bodies.push(body);
      if (hit < 3) res.writeHead(502).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  try {
    const res = await client({ retries: 3 }).post(`${upstream.url}/orders`, {
      json: { id: 7 },
      idempotencyKey: 'order-7',
    });
    assert.is(res.status, 200);
    assert.equal(await res.json(), { ok: true });
    assert.is(upstream.hits(), 3);
    assert.equal(bodies, ['{"id":7}', '{"id":7}', '{"id":7}']);
  } finally {
    await upstream.close();
  }
});

retries('a 4xx is an answer: returned, not retried', async () => {
  const upstream = await startUpstream((_req, res) => res.writeHead(404).end());
  try {
    const res = await client({ retries: 3 }).get(`${upstream.url}/missing`);
    assert.is(res.status, 404);
    assert.is(upstream.hits(), 1);
  } finally {
    await upstream.close();
  }
});

retries('a slow upstream times out per attempt', async () => {
  const upstream = await startUpstream((_req, res) => {
    setTimeout(() => res.writeHead(200).end(), 2000).unref();
  });
  try {
    const error = await client({ retries: 1, timeoutMs: 100 })
      .get(`${upstream.url}/slow`)
      .catch((e: unknown) => e);
    assert.instance(error, UpstreamTimeoutError);
    assert.is(upstream.hits(), 2);
  } finally {
    await upstream.close();
  }
});

retries('an unreachable upstream is a typed error', async () => {
  const upstream = await startUpstream(() => {});
  const url = upstream.url;
  await upstream.close();
  const error = await client({ retries: 1 })
    .get(`${url}/x`)
    .catch((e: unknown) => e);
  assert.instance(error, UpstreamUnreachableError);
  assert.match((error as Error).message, /ECONNREFUSED/);
});

const breaker = suite('circuit breaker');

breaker('opens on a failing upstream, fails fast, half-opens later and closes on success', async () => {
  let failing = true;
  const upstream = await startUpstream((_req, res) => {
    if (failing) res.writeHead(500).end('broken');
    else res.writeHead(200).end('fine');
  });
  try {
    const c = client({
      retries: 0,
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 400 },
    });
    assert.is(c.breakers.state(upstream.url), 'closed');
    for (let i = 0; i < 3; i++) {
      const error = await c.get(`${upstream.url}/x`).catch((e: unknown) => e);
      assert.instance(error, UpstreamStatusError);
    }
    assert.is(c.breakers.state(upstream.url), 'open');
    assert.is(await breakerState(upstream.url), 2);

    const hits = upstream.hits();
    const fast = await c.get(`${upstream.url}/x`).catch((e: unknown) => e);
    assert.instance(fast, CircuitOpenError);
    assert.is(upstream.hits(), hits, 'an open breaker does not call the upstream');

    failing = false;
    const deadline = Date.now() + 5000;
    while (c.breakers.state(upstream.url) !== 'halfOpen' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.is(c.breakers.state(upstream.url), 'halfOpen');
    assert.is(await breakerState(upstream.url), 1);

    const res = await c.get(`${upstream.url}/x`);
    assert.is(res.status, 200);
    assert.is(c.breakers.state(upstream.url), 'closed');
    assert.is(await breakerState(upstream.url), 0);

    const text = await metrics.text();
    const count = (outcome: string) =>
      Number(
        text
          .split('\n')
          .find(
            (l) =>
              l.startsWith('http_client_request_duration_seconds_count{') &&
              l.includes(`target="${upstream.url}"`) &&
              l.includes(`outcome="${outcome}"`),
          )
          ?.split(' ')
          .pop(),
      );
    assert.is(count('500'), 3, 'attempts that got a 500');
    assert.is(count('circuit-open'), 1, 'calls refused by the open breaker');
    assert.is(count('200'), 1);
  } finally {
    await upstream.close();
  }
});

breaker('a failed trial in half-open opens it again', async () => {
  const upstream = await startUpstream((_req, res) => res.writeHead(500).end());
  try {
    const c = client({ retries: 0, breaker: { volumeThreshold: 2, resetTimeoutMs: 200 } });
    for (let i = 0; i < 2; i++) await c.get(`${upstream.url}/x`).catch(() => {});
    assert.is(c.breakers.state(upstream.url), 'open');
    const deadline = Date.now() + 5000;
    while (c.breakers.state(upstream.url) !== 'halfOpen' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await c.get(`${upstream.url}/x`).catch(() => {});
    assert.is(c.breakers.state(upstream.url), 'open');
  } finally {
    await upstream.close();
  }
});

const routes = suite('upstream failures reaching a route');

routes('an open breaker or an unreachable upstream lets a route answer 503 problem+json', async () => {
  const upstream = await startUpstream((_req, res) => res.writeHead(500).end());
  const kit = await startKit([]);
  const c = kit.service.httpClient({ retries: 0, breaker: { volumeThreshold: 1, resetTimeoutMs: 60_000 } });
  const dead = await startUpstream(() => {});
  const deadUrl = dead.url;
  await dead.close();
  const kitWithRoute = await startKit(
    [
      defineRoute({
        method: 'GET',
        path: '/proxy',
        name: 'proxy',
        query: z.object({ to: z.enum(['broken', 'dead']) }),
        responses: { 200: { description: 'ok' }, 503: { description: 'Upstream unavailable' } },
        handler: async ({ query, ctx, reply }) => {
          await c.get(`${query.to === 'broken' ? upstream.url : deadUrl}/x`, {
            ...(ctx.state.signal ? { signal: ctx.state.signal } : {}),
          });
          return reply(200);
        },
      }),
    ],
    { tracing: kit.service.tracing },
  );
  try {
    const first = await fetch(`${kitWithRoute.url}/proxy?to=broken`);
    assert.is(first.status, 503);
    const open = await fetch(`${kitWithRoute.url}/proxy?to=broken`);
    assert.is(open.status, 503);
    assert.match(open.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.is(open.headers.get('retry-after'), '60');
    const body = (await open.json()) as Record<string, unknown>;
    assert.not.match(JSON.stringify(body), /127\.0\.0\.1/);
    assert.is(upstream.hits(), 1, 'the second call never left the service');

    const unreachable = await fetch(`${kitWithRoute.url}/proxy?to=dead`);
    assert.is(unreachable.status, 503);
    assert.match(unreachable.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const logged = kitWithRoute.logs.find((l) => /unreachable/.test(String(l.msg)));
    assert.ok(logged, 'the upstream address stays in the log');
  } finally {
    await kitWithRoute.stop();
    await kit.stop();
    await upstream.close();
  }
});

routes.after(() => {
  for (const c of clients) c.close();
});

retries.run();
breaker.run();
routes.run();
