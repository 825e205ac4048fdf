import http from 'node:http';
import { startRedisCluster } from '@souk/harness/infra';
import { useSuite } from '@souk/harness/suite';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { Cache } from '../src/cache/cache.ts';
import { closeRedisCluster, createRedisCluster, redisReady } from '../src/redis.ts';
import { defineRoute } from '../src/route.ts';
import { metricValue, serve } from './support/serve.ts';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a Redis master killed under load: no failed request, readiness degraded then recovered', async () => {
  const s = await useSuite('kit-cache-failover');
  const cluster = await startRedisCluster();
  const redis = createRedisCluster(cluster.nodes);
  const pool = new pg.Pool({ connectionString: s.databaseUrl, max: 10 });
  let app: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    await redisReady(redis);
    await pool.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
    await pool.query(`INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 100) i`);
    let loads = 0;
    app = await serve(({ metrics, health }) => {
      // A Redis timeout well above what a busy shared machine adds, so only the failover degrades the cache.
      const cache = new Cache({ redis, prefix: s.keyPrefix, metrics, ttlMs: 60_000, timeoutMs: 1_000 });
      cache.registerHealth(health);
      return [
        defineRoute({
          method: 'GET',
          path: '/items/:id',
          name: 'getItem',
          params: z.object({ id: z.coerce.number().int() }),
          responses: {
            200: { description: 'the item', body: z.object({ id: z.number(), name: z.string() }) },
          },
          handler: async ({ params }) => {
            const item = await cache.get(`item:${params.id}`, async () => {
              loads++;
              const { rows } = await pool.query<{ id: number; name: string }>(
                'SELECT id, name FROM items WHERE id = $1',
                [params.id],
              );
              return rows[0]!;
            });
            return { status: 200, body: item };
          },
        }),
      ];
    });
    const base = app.url;

    // Warm the cache: every key is a hit from now on while Redis is healthy.
    for (let id = 1; id <= 100; id++) assert.is((await get(`${base}/items/${id}`)).status, 200);
    assert.is(loads, 100);

    let failures = 0;
    let answered = 0;
    const failureSamples: string[] = [];
    let loading = true;
    const load = (async () => {
      const inflight = new Set<Promise<void>>();
      let i = 0;
      while (loading) {
        const id = (i++ % 100) + 1;
        const p = get(`${base}/items/${id}`).then(
          (r) => {
            answered++;
            const body = JSON.parse(r.body) as { id?: number };
            if (r.status !== 200 || body.id !== id) {
              failures++;
              failureSamples.push(`${r.status} ${r.body.slice(0, 120)}`);
            }
          },
          (err: Error) => {
            failures++;
            failureSamples.push(err.message);
          },
        );
        const tracked = p.finally(() => inflight.delete(tracked));
        inflight.add(tracked);
        await sleep(5); // about 200 requests per second
      }
      await Promise.all(inflight);
    })();

    const statuses: string[] = [];
    const readiness = async () => {
      const r = await get(`${base}/readyz`);
      const body = JSON.parse(r.body) as { status: string };
      statuses.push(body.status);
      return { http: r.status, status: body.status };
    };
    await sleep(500);
    assert.is((await readiness()).status, 'ok');

    const masters = await cluster.masters();
    const victim = Number(masters[0]!.split(':')[1]);
    await cluster.killNode(victim);
    const killedAt = Date.now();
    const answeredAtKill = answered;

    let sawDegraded = false;
    let recovered = false;
    let degradedGaugeAtRecovery = -1;
    while (Date.now() - killedAt < 30_000) {
      const r = await readiness();
      assert.is(r.http, 200, 'a degraded cache never makes the service unready');
      if (r.status === 'degraded') sawDegraded = true;
      if (sawDegraded && r.status === 'ok') {
        recovered = true;
        degradedGaugeAtRecovery = await metricValue(app.metrics, 'souk_cache_degraded');
        break;
      }
      await sleep(100);
    }
    const recoveredAfterMs = Date.now() - killedAt;
    const answeredDuringFailover = answered - answeredAtKill;
    // Keep the load on a little after the recovery, then stop it.
    await sleep(1_000);
    loading = false;
    await load;

    assert.ok(sawDegraded, `readiness went degraded: ${statuses.join(',')}`);
    assert.ok(recovered, `readiness recovered by itself: ${statuses.join(',')}`);
    assert.ok(
      answeredDuringFailover > 50,
      `load ran during the failover (${answeredDuringFailover} answered)`,
    );
    assert.is(failures, 0, `failed requests: ${failureSamples.slice(0, 5).join(' | ')}`);
    assert.not.ok((await cluster.masters()).includes(`127.0.0.1:${victim}`), 'a replica took over');

    const metrics = app.metrics;
    assert.ok((await metricValue(metrics, 'souk_cache_requests_total', { result: 'error' })) > 0);
    assert.ok((await metricValue(metrics, 'souk_cache_requests_total', { result: 'bypass' })) > 0);
    assert.is(degradedGaugeAtRecovery, 0);
    // Served from Redis again: a round of requests for keys cached before the kill is (almost) all
    // hits. The cluster may still refuse a slot for a moment after readiness turned ok, which puts
    // the cache back into its cool-down, so give it a few rounds.
    const rounds: number[] = [];
    for (let round = 0; round < 20 && (rounds.at(-1) ?? 0) < 90; round++) {
      if (round > 0) await sleep(500);
      const hitsBefore = await metricValue(metrics, 'souk_cache_requests_total', { result: 'hit' });
      for (let id = 1; id <= 100; id++) await get(`${base}/items/${id}`);
      rounds.push((await metricValue(metrics, 'souk_cache_requests_total', { result: 'hit' })) - hitsBefore);
    }
    assert.ok((rounds.at(-1) ?? 0) >= 90, `hits per 100 requests after recovery: ${rounds.join(', ')}`);
    console.log(
      `  failover: ${answered} requests (${answeredDuringFailover} while degraded), 0 failed, ok again ${recoveredAfterMs} ms after the kill`,
    );
  } finally {
    await app?.close();
    agent.destroy();
    await closeRedisCluster(redis);
    await pool.end();
    await cluster.stop();
    await s.close();
  }
});

test.run();
