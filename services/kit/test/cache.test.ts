import { useSuite } from '@souk/harness/suite';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cache } from '../src/cache/cache.ts';
import { SingleFlight } from '../src/cache/single-flight.ts';
import { Health } from '../src/health.ts';
import { Metrics } from '../src/metrics.ts';
import { closeRedisCluster, createRedisCluster, redisReady } from '../src/redis.ts';
import { metricValue } from './support/serve.ts';

const s = await useSuite('kit-cache');
const redis = createRedisCluster(s.redisNodes);
await redisReady(redis);
const pool = new pg.Pool({ connectionString: s.databaseUrl, max: 20 });
await pool.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
await pool.query(`INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 50) i`);

/** A loader that really reads Postgres and counts its reads. */
function itemLoader(id: number) {
  const loader = async () => {
    loader.calls++;
    const { rows } = await pool.query<{ id: number; name: string }>(
      'SELECT id, name, pg_sleep(0.05) FROM items WHERE id = $1',
      [id],
    );
    return rows[0] ? { id: rows[0].id, name: rows[0].name } : null;
  };
  loader.calls = 0;
  return loader;
}

const newCache = (metrics = new Metrics({ service: 'kit-cache-test', defaultMetrics: false })) =>
  new Cache({ redis, prefix: s.keyPrefix, ttlMs: 30_000, metrics, timeoutMs: 2_000 });

const readThrough = suite('read-through');

readThrough('a miss loads and fills, the next get is a hit', async () => {
  const metrics = new Metrics({ service: 'kit-cache-test', defaultMetrics: false });
  const cache = newCache(metrics);
  const load = itemLoader(1);
  assert.equal(await cache.get('item:1', load), { id: 1, name: 'item 1' });
  assert.equal(await cache.get('item:1', load), { id: 1, name: 'item 1' });
  assert.is(load.calls, 1);
  assert.is(await metricValue(metrics, 'souk_cache_requests_total', { result: 'miss' }), 1);
  assert.is(await metricValue(metrics, 'souk_cache_requests_total', { result: 'hit' }), 1);
  assert.is(await redis.get(cache.keyOf('item:1')), JSON.stringify({ id: 1, name: 'item 1' }));
});

readThrough('the TTL is the base TTL plus up to the jitter', async () => {
  const cache = new Cache({ redis, prefix: s.keyPrefix, timeoutMs: 2_000, ttlMs: 10_000, jitter: 0.5 });
  const ttls: number[] = [];
  for (let i = 0; i < 20; i++) {
    await cache.get(`ttl:${i}`, async () => i);
    ttls.push(await redis.pttl(cache.keyOf(`ttl:${i}`)));
  }
  assert.ok(
    ttls.every((t) => t > 9_000 && t <= 15_000),
    `within [ttl, 1.5 ttl]: ${ttls.join(',')}`,
  );
  assert.ok(new Set(ttls.map((t) => Math.round(t / 100))).size > 5, `spread out: ${ttls.join(',')}`);
});

readThrough('200 concurrent misses on one key cause exactly one database read', async () => {
  const metrics = new Metrics({ service: 'kit-cache-test', defaultMetrics: false });
  const cache = newCache(metrics);
  const load = itemLoader(7);
  const results = await Promise.all(Array.from({ length: 200 }, () => cache.get('item:7', load)));
  assert.is(load.calls, 1);
  assert.ok(results.every((r) => JSON.stringify(r) === JSON.stringify({ id: 7, name: 'item 7' })));
  assert.is(await metricValue(metrics, 'souk_cache_requests_total', { result: 'miss' }), 200);
  // And afterwards everything is a hit.
  await Promise.all(Array.from({ length: 50 }, () => cache.get('item:7', load)));
  assert.is(load.calls, 1);
  assert.is(await metricValue(metrics, 'souk_cache_requests_total', { result: 'hit' }), 50);
});

readThrough('a loader error reaches every waiting caller and is not cached', async () => {
  const cache = newCache();
  let calls = 0;
  const failing = async () => {
    calls++;
    await pool.query('SELECT pg_sleep(0.02)');
    throw new Error('db says no');
  };
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => cache.get('boom', failing)));
  assert.is(calls, 1);
  assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'db says no'));
  assert.is(await redis.exists(cache.keyOf('boom')), 0);
  assert.is(await cache.get('boom', async () => 'fine'), 'fine');
});

const invalidation = suite('invalidation');

invalidation('by key: the next get loads again', async () => {
  const cache = newCache();
  const load = itemLoader(2);
  await cache.get('item:2', load);
  await cache.invalidate('item:2');
  assert.is(await redis.exists(cache.keyOf('item:2')), 0);
  await cache.get('item:2', load);
  assert.is(load.calls, 2);
});

invalidation('by tag: every entry filed under it, spread over several slots, and nothing else', async () => {
  const cache = newCache();
  const ids = [10, 11, 12, 13, 14, 15, 16, 17];
  const loads = new Map(ids.map((id) => [id, itemLoader(id)]));
  for (const id of ids) {
    await cache.get(`item:${id}`, loads.get(id)!, { tags: ['items', id % 2 ? 'odd' : 'even'] });
  }
  const untagged = itemLoader(20);
  await cache.get('item:20', untagged);

  const slots = (await Promise.all(
    ids.map((id) => redis.cluster('KEYSLOT', cache.keyOf(`item:${id}`))),
  )) as number[];
  const ranges = await redis.cluster('SLOTS');
  const owners = new Set(
    slots.map((slot) => {
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      return range?.[2] ? `${range[2][0]}:${range[2][1]}` : 'none';
    }),
  );
  assert.ok(new Set(slots).size === ids.length, 'every entry in its own slot');
  assert.ok(owners.size >= 2, `entries on several masters: ${[...owners].join(',')}`);

  await cache.invalidateTag('odd');
  for (const id of ids) {
    assert.is(await redis.exists(cache.keyOf(`item:${id}`)), id % 2 ? 0 : 1, `item ${id}`);
  }
  await cache.invalidateTag('items');
  for (const id of ids) assert.is(await redis.exists(cache.keyOf(`item:${id}`)), 0);
  assert.is(await redis.exists(cache.tagKeyOf('items')), 0, 'the tag set went too');
  assert.is(await redis.exists(cache.keyOf('item:20')), 1, 'an untagged entry stays');

  for (const id of ids) await cache.get(`item:${id}`, loads.get(id)!, { tags: ['items'] });
  assert.ok(
    [...loads.values()].every((l) => l.calls === 2),
    'each entry loaded again once',
  );
});

invalidation('an invalidation during a load keeps the stale value out of the cache', async () => {
  const cache = newCache();
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const stale = cache.get('racy', async () => {
    await gate;
    return 'old';
  });
  await new Promise((r) => setTimeout(r, 20));
  await cache.invalidate('racy');
  const fresh = cache.get('racy', async () => 'new');
  release();
  assert.is(await stale, 'old');
  assert.is(await fresh, 'new');
  assert.is(await redis.get(cache.keyOf('racy')), JSON.stringify('new'));
});

invalidation('the tag set lives at least as long as its longest entry', async () => {
  const cache = newCache();
  await cache.get('short', async () => 1, { ttlMs: 5_000, tags: ['lifetime'] });
  await cache.get('long', async () => 2, { ttlMs: 60_000, tags: ['lifetime'] });
  await cache.get('short2', async () => 3, { ttlMs: 5_000, tags: ['lifetime'] });
  const ttl = await redis.pttl(cache.tagKeyOf('lifetime'));
  assert.ok(ttl > 55_000, `tag ttl ${ttl}`);
});

const acrossInstances = suite('single-flight across instances (fill lock)');

acrossInstances('two instances, 100 concurrent misses each: one database read in all', async () => {
  const other = createRedisCluster(s.redisNodes);
  await redisReady(other);
  try {
    const a = new Cache({ redis, prefix: s.keyPrefix, timeoutMs: 2_000, lockMs: 3_000 });
    const b = new Cache({ redis: other, prefix: s.keyPrefix, timeoutMs: 2_000, lockMs: 3_000 });
    const load = itemLoader(30);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).get('item:30', load)),
    );
    assert.is(load.calls, 1);
    assert.ok(results.every((r) => JSON.stringify(r) === JSON.stringify({ id: 30, name: 'item 30' })));
    assert.is(await redis.exists(a.lockKeyOf('item:30')), 0, 'the lock went with the fill');
  } finally {
    await closeRedisCluster(other);
  }
});

acrossInstances('a lock left by a dead instance only delays the load until it expires', async () => {
  const cache = new Cache({ redis, prefix: s.keyPrefix, timeoutMs: 2_000, lockMs: 400 });
  await redis.set(cache.lockKeyOf('item:31'), 'a crashed instance', 'PX', 400);
  const load = itemLoader(31);
  const started = performance.now();
  assert.equal(await cache.get('item:31', load), { id: 31, name: 'item 31' });
  assert.is(load.calls, 1);
  assert.ok(performance.now() - started >= 300, 'waited for the other fill first');
});

acrossInstances('a failed load releases the lock at once', async () => {
  const cache = new Cache({ redis, prefix: s.keyPrefix, timeoutMs: 2_000, lockMs: 10_000 });
  await cache.get('item:32', async () => Promise.reject(new Error('db down'))).catch(() => {});
  assert.is(await redis.exists(cache.lockKeyOf('item:32')), 0);
  const started = performance.now();
  assert.equal(await cache.get('item:32', itemLoader(32)), { id: 32, name: 'item 32' });
  assert.ok(performance.now() - started < 5_000, 'no wait on a released lock');
});

const degraded = suite('redis unreachable');

degraded('serves from the loader, counts errors then bypasses, reports degraded, fails fast', async () => {
  // A cluster client whose nodes are gone: a real connection failure, nothing simulated.
  const dead = createRedisCluster(['127.0.0.1:1']);
  const metrics = new Metrics({ service: 'kit-cache-test', defaultMetrics: false });
  const health = new Health();
  const cache = new Cache({ redis: dead, prefix: s.keyPrefix, metrics, cooldownMs: 200 });
  cache.registerHealth(health);
  try {
    const load = itemLoader(3);
    const started = performance.now();
    assert.equal(await cache.get('item:3', load), { id: 3, name: 'item 3' });
    assert.equal(await cache.get('item:3', load), { id: 3, name: 'item 3' });
    assert.ok(performance.now() - started < 5_000, 'no hanging on a dead cluster');
    assert.is(load.calls, 2);
    assert.is(await metricValue(metrics, 'souk_cache_requests_total', { result: 'error' }), 1);
    assert.is(await metricValue(metrics, 'souk_cache_requests_total', { result: 'bypass' }), 1);
    assert.is(await metricValue(metrics, 'souk_cache_degraded'), 1);
    const readiness = await health.readiness();
    assert.is(readiness.status, 'degraded');
    assert.is(readiness.checks['cache']?.status, 'down');
    assert.is(readiness.checks['cache']?.critical, false);
  } finally {
    dead.disconnect();
  }
});

const flights = suite('single-flight');

flights.after(async () => {
  await closeRedisCluster(redis);
  await pool.end();
  await s.close();
});

flights('shares one call per key while it runs, then forgets it', async () => {
  const sf = new SingleFlight<number>();
  let calls = 0;
  const fn = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 10));
    return calls;
  };
  const [a, b] = await Promise.all([sf.do('k', fn), sf.do('k', fn), sf.do('other', fn)]);
  assert.is(a, b);
  assert.is(calls, 2);
  assert.is(sf.size, 0);
  await sf.do('k', fn);
  assert.is(calls, 3);
});

readThrough.run();
invalidation.run();
acrossInstances.run();
degraded.run();
flights.run();
