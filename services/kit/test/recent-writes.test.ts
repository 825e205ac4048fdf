import { useSuite } from '@souk/harness/suite';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecentWrites } from '../src/db/recent-writes.ts';
import { closeRedisCluster, createRedisCluster, redisReady } from '../src/redis.ts';

const s = await useSuite('kit-recent-writes');
const redis = createRedisCluster(s.redisNodes);
await redisReady(redis);

test('a subject that wrote is recent for the window, then not; others never', async () => {
  const writes = new RecentWrites({ redis, prefix: s.keyPrefix, windowMs: 400, timeoutMs: 2_000 });
  assert.is(await writes.recent('alice'), false);
  await writes.mark('alice');
  assert.is(await writes.recent('alice'), true);
  assert.is(await writes.recent('bob'), false);
  // Another instance (another replica of the service) sees the same mark.
  const other = new RecentWrites({ redis, prefix: s.keyPrefix, windowMs: 400, timeoutMs: 2_000 });
  assert.is(await other.recent('alice'), true);
  await new Promise((r) => setTimeout(r, 600));
  assert.is(await writes.recent('alice'), false);
});

test('without Redis, recent() rejects so the caller reads the primary', async () => {
  const dead = createRedisCluster([{ host: '127.0.0.1', port: 9 }]);
  const writes = new RecentWrites({ redis: dead, prefix: s.keyPrefix, timeoutMs: 300 });
  let failed = false;
  await writes.recent('alice').catch(() => {
    failed = true;
  });
  assert.ok(failed);
  await closeRedisCluster(dead);
});

test.after(async () => {
  await closeRedisCluster(redis);
  await s.close();
});

test.run();
