import { fileURLToPath } from 'node:url';
import { useSuite } from '@souk/harness/suite';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { baseConfig, loadConfig } from '../src/config.ts';
import { databaseConfig, redisConfig } from '../src/db/config.ts';
import { serviceDatabase } from '../src/db/service-database.ts';
import { connectPlatform } from '../src/platform-clients.ts';
import { rateLimit } from '../src/rate-limit.ts';
import { defineRoute } from '../src/route.ts';
import { createService } from '../src/service.ts';
import { PrismaClient } from './fixtures/generated/client/client.ts';
import type { LogLine } from './helpers.ts';
import { metricValue } from './support/serve.ts';

// A service configured without REDIS_NODES, on a real database: nothing here may need Redis.
const s = await useSuite('kit-no-redis');
let loads = 0;

const config = loadConfig(baseConfig.extend(databaseConfig.shape).extend(redisConfig.shape), {
  SERVICE_NAME: 'kit-no-redis',
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  DATABASE_URL: s.databaseUrl,
  REDIS_NODES: '',
});
const logs: LogLine[] = [];
const service = createService({
  config,
  logDestination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
});
// Outside production the platform migrates at start: the kit's event tables, then the fixture's items.
const platform = await connectPlatform(service, {
  database: serviceDatabase(PrismaClient, {
    name: 'kit-no-redis',
    migrationsDir: fileURLToPath(new URL('./fixtures/prisma/migrations', import.meta.url)),
  }),
});
const pool = new pg.Pool({ connectionString: s.databaseUrl, max: 4 });
await pool.query(
  `INSERT INTO items (id, name, price) SELECT i, 'item ' || i, i FROM generate_series(1, 5) i`,
);
const cache = platform.cache('items:');
const login = platform.rateLimiter('login', 3, 60_000);
const listening = await service.start({
  routes: [
    defineRoute({
      method: 'GET',
      path: '/items/:id',
      name: 'getItem',
      params: z.object({ id: z.coerce.number().int() }),
      responses: { 200: { description: 'the item', body: z.object({ id: z.number(), name: z.string() }) } },
      handler: async ({ params, reply }) => {
        const item = await cache.get(`item:${params.id}`, async () => {
          loads++;
          const { rows } = await pool.query<{ id: number; name: string }>(
            'SELECT id, name FROM items WHERE id = $1',
            [params.id],
          );
          return rows[0];
        });
        return reply(200, item!);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/sessions',
      name: 'login',
      use: [rateLimit(login, { key: (ctx) => ctx.get('X-Client') })],
      responses: { 201: { description: 'created' } },
      handler: () => ({ status: 201 }),
    }),
  ],
});
const base = listening.url;

test('config: unset or empty REDIS_NODES means no Redis, a malformed list is refused with its line', () => {
  assert.is(platform.redis, undefined);
  assert.is(cache.enabled, false);
  assert.is(login.shared, false);
  const schema = baseConfig.extend(redisConfig.shape);
  try {
    loadConfig(schema, { SERVICE_NAME: 'x', REDIS_NODES: 'redis-0' });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /config: REDIS_NODES is invalid: a comma-separated host:port list/);
  }
});

test("migrated at start: the kit's event tables and the service's own", async () => {
  const { rows } = await pool.query<{ t: string }>(
    `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  const tables = rows.map((r) => r.t);
  for (const t of ['_prisma_migrations', 'items', 'souk_inbox', 'souk_outbox'])
    assert.ok(tables.includes(t), t);
});

test('says once at start that it runs without Redis', () => {
  const warnings = logs.filter((l) => /REDIS_NODES is not set/.test(l.msg ?? ''));
  assert.is(warnings.length, 1);
  assert.is(warnings[0]?.level, 'warn');
});

test('cached reads are served from the database, every time', async () => {
  const first = await fetch(`${base}/items/2`);
  assert.is(first.status, 200);
  assert.equal(await first.json(), { id: 2, name: 'item 2' });
  await pool.query(`UPDATE items SET name = 'renamed' WHERE id = 2`);
  const second = await fetch(`${base}/items/2`);
  assert.equal(await second.json(), { id: 2, name: 'renamed' }, 'nothing stale: no cache in between');
  assert.is(loads, 2);
  assert.is(await metricValue(service.metrics, 'souk_cache_requests_total', { result: 'disabled' }), 2);
  assert.is(await metricValue(service.metrics, 'souk_cache_requests_total', { result: 'hit' }), 0);
  assert.is(await metricValue(service.metrics, 'souk_cache_disabled', {}), 1);
  assert.is(await metricValue(service.metrics, 'souk_cache_degraded', {}), 0);
  await cache.invalidate('item:2');
  await cache.invalidateTag('items');
});

test('/readyz: ready, the cache and Redis listed as disabled, not degraded', async () => {
  const res = await fetch(`${base}/readyz`);
  assert.is(res.status, 200);
  const body = (await res.json()) as {
    status: string;
    checks: Record<string, { status: string; critical: boolean; detail?: string }>;
  };
  assert.is(body.status, 'ok');
  assert.is(body.checks['db']?.status, 'up');
  assert.is(body.checks['cache']?.status, 'disabled');
  assert.is(body.checks['cache']?.critical, false);
  assert.match(body.checks['cache']?.detail ?? '', /REDIS_NODES unset/);
  assert.is(body.checks['redis']?.status, 'disabled');
});

test('rate limits are kept in process: the 4th login in the window is a 429', async () => {
  const post = (client: string) =>
    fetch(`${base}/sessions`, { method: 'POST', headers: { 'X-Client': client } });
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const res = await post('alice');
    statuses.push(res.status);
    assert.is(res.headers.get('ratelimit-remaining'), String(2 - i));
  }
  assert.equal(statuses, [201, 201, 201]);
  const limited = await post('alice');
  assert.is(limited.status, 429);
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter >= 19 && retryAfter <= 20, `Retry-After ${retryAfter}: one emission interval`);
  assert.is((await post('bob')).status, 201, 'another client has its own quota');
  assert.is(await metricValue(service.metrics, 'souk_rate_limit_requests_total', { result: 'limited' }), 1);
  assert.is(await metricValue(service.metrics, 'souk_rate_limit_requests_total', { result: 'error' }), 0);
});

test('deny-list and read-your-writes marks are kept in process', async () => {
  const { denyList } = platform;
  assert.is(await denyList.isDenied('jti-1'), false);
  await denyList.deny('jti-1', Math.floor(Date.now() / 1000) + 60);
  await denyList.deny('jti-old', Math.floor(Date.now() / 1000) - 1);
  assert.is(await denyList.isDenied('jti-1'), true);
  assert.is(await denyList.isDenied('jti-old'), false, 'an expired token needs no entry');
  const writes = platform.recentWrites('orders:', 200);
  assert.is(await writes.recent('u1'), false);
  await writes.mark('u1');
  assert.is(await writes.recent('u1'), true);
  await new Promise((r) => setTimeout(r, 250));
  assert.is(await writes.recent('u1'), false, 'the mark ends with its window');
});

test.after(async () => {
  await service.stop();
  await pool.end();
  await s.close();
});

test.run();
