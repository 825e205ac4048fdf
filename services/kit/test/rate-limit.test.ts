import { useSuite } from '@souk/harness/suite';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Metrics } from '../src/metrics.ts';
import { RateLimiter, rateLimit } from '../src/rate-limit.ts';
import { closeRedisCluster, createRedisCluster, type RedisCluster, redisReady } from '../src/redis.ts';
import { defineRoute } from '../src/route.ts';
import { metricValue, type Served, serve } from './support/serve.ts';

const s = await useSuite('kit-rate-limit');
const clients: RedisCluster[] = [];
const apps: Served[] = [];

/** One app instance as a replica of a service would be: its own Redis client, the shared limit. */
async function instance(
  name: string,
  limit: number,
  windowMs: number,
  nodes: typeof s.redisNodes | string[],
) {
  const redis = createRedisCluster(nodes);
  clients.push(redis);
  let metrics!: Metrics;
  const app = await serve((kit) => {
    metrics = kit.metrics;
    // A generous timeout: on a loaded machine a slow answer would fail open and blur what is tested here.
    const limiter = new RateLimiter({
      redis,
      name,
      limit,
      windowMs,
      prefix: s.keyPrefix,
      metrics,
      timeoutMs: 5_000,
    });
    return [
      defineRoute({
        method: 'POST',
        path: '/sessions',
        name: 'createSession',
        use: [rateLimit(limiter, { key: (ctx) => ctx.get('X-Client') || ctx.ip })],
        responses: { 201: { description: 'created' } },
        handler: () => ({ status: 201 }),
      }),
    ];
  });
  apps.push(app);
  return { app, redis, metrics: () => metrics };
}

const post = (app: Served, client = 'alice') =>
  fetch(`${app.url}/sessions`, { method: 'POST', headers: { 'X-Client': client } });

const limits = suite('rate limiting');

limits.after(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await Promise.all(clients.map((c) => closeRedisCluster(c)));
  await s.close();
});

limits(
  'the N+1th request in the window gets a 429 problem with Retry-After, across two instances',
  async () => {
    const a = await instance('sessions', 5, 60_000, s.redisNodes);
    const b = await instance('sessions', 5, 60_000, s.redisNodes);
    await Promise.all([redisReady(a.redis), redisReady(b.redis)]);
    const statuses: number[] = [];
    for (const app of [a.app, b.app, a.app, b.app, a.app]) {
      const res = await post(app);
      statuses.push(res.status);
      assert.is(res.headers.get('ratelimit-limit'), '5');
      assert.is(res.headers.get('ratelimit-policy'), '5;w=60');
    }
    assert.equal(statuses, [201, 201, 201, 201, 201]);
    const last = await post(a.app);
    assert.is(last.headers.get('ratelimit-remaining'), '0');
    const sixth = await post(b.app);
    assert.is(last.status, 429, 'the sixth request, on instance A');
    assert.is(sixth.status, 429, 'and on instance B too: the limit is shared');
    for (const res of [last, sixth]) {
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(
        retryAfter >= 1 && retryAfter <= 12,
        `Retry-After ${retryAfter} within one emission interval`,
      );
      assert.is(res.headers.get('ratelimit-remaining'), '0');
      const body = (await res.json()) as { status: number; detail: string };
      assert.is(body.status, 429);
      assert.match(body.detail, /rate limit/);
    }
    assert.is((await post(a.app, 'bob')).status, 201, 'another client has its own quota');
    assert.is(await metricValue(a.metrics(), 'souk_rate_limit_requests_total', { result: 'limited' }), 1);
    assert.is(await metricValue(b.metrics(), 'souk_rate_limit_requests_total', { result: 'limited' }), 1);
  },
);

limits('concurrent requests from both instances never exceed the limit', async () => {
  // One request per 3 minutes after the burst: however slow the machine, the window does not refill meanwhile.
  const a = await instance('burst', 20, 3_600_000, s.redisNodes);
  const b = await instance('burst', 20, 3_600_000, s.redisNodes);
  await Promise.all([redisReady(a.redis), redisReady(b.redis)]);
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) => post(i % 2 ? a.app : b.app, 'carol')),
  );
  const ok = results.filter((r) => r.status === 201).length;
  const limited = results.filter((r) => r.status === 429).length;
  assert.is(ok, 20);
  assert.is(limited, 40);
  const failedOpen =
    (await metricValue(a.metrics(), 'souk_rate_limit_requests_total', { result: 'error' })) +
    (await metricValue(b.metrics(), 'souk_rate_limit_requests_total', { result: 'error' }));
  assert.is(failedOpen, 0);
});

limits('after Retry-After, requests are allowed again', async () => {
  // 3 per 9 s: one more request fits every 3 s.
  const a = await instance('short', 3, 9_000, s.redisNodes);
  await redisReady(a.redis);
  for (let i = 0; i < 3; i++) assert.is((await post(a.app, 'dave')).status, 201);
  const limited = await post(a.app, 'dave');
  assert.is(limited.status, 429);
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter >= 2 && retryAfter <= 3, `Retry-After ${retryAfter}`);
  await new Promise((r) => setTimeout(r, retryAfter * 1000));
  assert.is((await post(a.app, 'dave')).status, 201, 'after Retry-After one more fits');
  assert.is((await post(a.app, 'dave')).status, 429, 'and only one');
});

limits('with Redis unreachable the limiter fails open and says so in its metric', async () => {
  const dead = await instance('sessions', 1, 10_000, ['127.0.0.1:1']);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await post(dead.app)).status);
  assert.equal(statuses, [201, 201, 201]);
  assert.is(await metricValue(dead.metrics(), 'souk_rate_limit_requests_total', { result: 'error' }), 3);
});

limits.run();
