import { useSuite } from '@souk/harness/suite';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inventoryDatabase } from '../src/data/database.ts';
import {
  call,
  metricsText,
  newItem,
  registerAndLogin,
  sample,
  startInventory,
  startUsersApp,
} from './support.ts';

// Redis unreachable from the start (nothing listens on port 1): the cache is an optimisation, so
// reads and writes go on against the database, and readiness and metrics say the cache is degraded.
const usersSuite = await useSuite('inventory-redis-down-users');
const s = await useSuite('inventory-redis-down');
// The read replica is a database of its own with the schema and none of the rows: a replica that
// never catches up. Without Redis to tell what was written lately, a writer's reads must not go there.
const lagging = await useSuite('inventory-redis-down-replica');
await inventoryDatabase.migrate(lagging.databaseUrl);
const users = await startUsersApp(usersSuite);
const inventory = await startInventory(
  s,
  users.url,
  { REDIS_NODES: '127.0.0.1:1', DATABASE_REPLICA_URL: lagging.databaseUrl },
  users.service.tracing,
);
const base = inventory.url;

test('with Redis down, items are served from the database, a writer reads its writes, and the service says so', async () => {
  const alice = await registerAndLogin(users.url, 'alice');
  const created = await call(base, 'POST', '/items', { token: alice.token, body: newItem() });
  assert.equal(created.status, 201);
  const id = created.body['id'] as string;
  for (let i = 0; i < 3; i++) {
    const read = await call(base, 'GET', `/items/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body['title'], 'Cordless drill');
  }
  const page = await call(base, 'GET', `/items?owner=${alice.id}`);
  assert.equal((page.body['items'] as unknown[]).length, 1);
  const patched = await call(base, 'PATCH', `/items/${id}`, {
    token: alice.token,
    headers: { 'If-Match': '"1"' },
    body: { title: 'Drill' },
  });
  assert.equal(patched.status, 200);
  assert.equal((await call(base, 'GET', `/items/${id}`)).body['title'], 'Drill');

  const ready = await call(base, 'GET', '/readyz');
  assert.equal(ready.status, 200, 'still ready: the database answers');
  assert.equal(ready.body['status'], 'degraded');
  const checks = ready.body['checks'] as Record<string, { status: string }>;
  assert.equal(checks['cache']?.status, 'down');
  assert.equal(checks['db']?.status, 'up');
  const text = await metricsText(base);
  assert.equal(sample(text, 'souk_cache_degraded', {}), 1);
  assert.equal(sample(text, 'souk_cache_requests_total', { result: 'hit' }), 0);
  assert.ok(
    sample(text, 'souk_cache_requests_total', { result: 'bypass' }) +
      sample(text, 'souk_cache_requests_total', { result: 'error' }) >=
      5,
  );
});

test.after(async () => {
  await inventory.stop();
  await users.stop();
  await s.close();
  await lagging.close();
  await usersSuite.close();
});

test.run();
