import assert from 'node:assert/strict';
import net from 'node:net';
import { useSuite } from '@souk/harness/suite';
import pg from 'pg';
import { suite } from 'uvu';
import { Cache } from '../src/cache/cache.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { InvalidEventError } from '../src/events/codec.ts';
import { closeRedisCluster, createRedisCluster } from '../src/redis.ts';
import { transientErrorCode } from '../src/transient-error.ts';
import { PrismaClient } from './fixtures/generated/client/client.ts';

const s = await useSuite('kit-transient-error');
let db: Database<PrismaClient>;
const test = suite('transient errors of the database and the cache');

test.before(async () => {
  db = await openDatabase(PrismaClient, { url: s.databaseUrl, poolSize: 4 });
  await db.primary.$executeRawUnsafe(
    'CREATE TABLE IF NOT EXISTS transient_rows (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)',
  );
  await db.primary.$executeRawUnsafe(
    'INSERT INTO transient_rows (id) VALUES (1), (2) ON CONFLICT DO NOTHING',
  );
});

test.after(async () => {
  await db?.close();
  await s.close();
});

/** The error `work` rejects with. */
async function failure(work: () => PromiseLike<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a server nobody listens on: through Prisma and through pg', async () => {
  const url = `postgres://postgres@127.0.0.1:${await closedPort()}/postgres`;
  const down = await openDatabase(PrismaClient, { url, poolSize: 1 });
  try {
    const viaPrisma = await failure(() => down.primary.$queryRawUnsafe('SELECT 1'));
    assert.ok(transientErrorCode(viaPrisma), `not transient: ${String(viaPrisma)}`);
  } finally {
    await down.close();
  }
  const client = new pg.Client({ connectionString: url });
  const viaPg = await failure(() => client.connect());
  assert.equal(transientErrorCode(viaPg), 'ECONNREFUSED');
});

test('the connection terminated by the server mid-transaction (57P01)', async () => {
  const admin = new pg.Client({ connectionString: s.databaseUrl });
  await admin.connect();
  try {
    const error = await failure(() =>
      db.primary.$transaction(async (tx) => {
        const [row] = await tx.$queryRawUnsafe<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [row!.pid]);
        await tx.$queryRawUnsafe('SELECT 1');
      }),
    );
    assert.ok(transientErrorCode(error), `not transient: ${String(error)}`);
  } finally {
    await admin.end();
  }
});

test('a deadlock (40P01) and a serialization failure (40001)', async () => {
  let release!: () => void;
  const both = new Promise<void>((resolve) => {
    let waiting = 2;
    release = () => {
      if (--waiting === 0) resolve();
    };
  });
  const crossing = (first: number, second: number) =>
    db.primary.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('UPDATE transient_rows SET n = n + 1 WHERE id = $1', first);
      release();
      await both;
      await tx.$executeRawUnsafe('UPDATE transient_rows SET n = n + 1 WHERE id = $1', second);
    });
  const results = await Promise.allSettled([crossing(1, 2), crossing(2, 1)]);
  const deadlock = results.find((r) => r.status === 'rejected');
  assert.ok(deadlock, 'one of the crossing transactions lost');
  assert.ok(transientErrorCode(deadlock.reason), `not transient: ${String(deadlock.reason)}`);

  const a = new pg.Client({ connectionString: s.databaseUrl });
  const b = new pg.Client({ connectionString: s.databaseUrl });
  await Promise.all([a.connect(), b.connect()]);
  try {
    for (const c of [a, b]) {
      await c.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await c.query('SELECT sum(n) FROM transient_rows');
    }
    await a.query('UPDATE transient_rows SET n = n + 1 WHERE id = 1');
    await b.query('UPDATE transient_rows SET n = n + 1 WHERE id = 2');
    await a.query('COMMIT');
    const serialization = await failure(() => b.query('COMMIT'));
    assert.equal(transientErrorCode(serialization), '40001');
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});

test('a lock timeout (55P03) and a write on a read-only transaction (25006)', async () => {
  const holder = new pg.Client({ connectionString: s.databaseUrl });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM transient_rows WHERE id = 1 FOR UPDATE');
    const lockTimeout = await failure(() =>
      db.primary.$transaction(async (tx) => {
        await tx.$executeRawUnsafe("SET LOCAL lock_timeout = '50ms'");
        await tx.$executeRawUnsafe('UPDATE transient_rows SET n = n + 1 WHERE id = 1');
      }),
    );
    assert.ok(transientErrorCode(lockTimeout), `not transient: ${String(lockTimeout)}`);
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
  const readOnly = await failure(() =>
    db.primary.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET TRANSACTION READ ONLY');
      await tx.$executeRawUnsafe('UPDATE transient_rows SET n = n + 1 WHERE id = 1');
    }),
  );
  assert.ok(transientErrorCode(readOnly), `not transient: ${String(readOnly)}`);
});

test("an invalidation the cache's Redis cannot take is transient; a read still falls back", async () => {
  const redis = createRedisCluster([{ host: '127.0.0.1', port: await closedPort() }]);
  const cache = new Cache({ redis, prefix: 'transient:', ttlMs: 60_000, timeoutMs: 200 });
  try {
    const lost = await failure(() => cache.invalidate('item:1'));
    assert.equal(transientErrorCode(lost), 'CACHE_UNAVAILABLE', String(lost));
    const lostTag = await failure(() => cache.invalidateTag('items'));
    assert.equal(transientErrorCode(lostTag), 'CACHE_UNAVAILABLE', String(lostTag));
    assert.equal(await cache.get('item:1', async () => 'from the database'), 'from the database');
  } finally {
    await closeRedisCluster(redis);
  }
});

test('failures of the work itself are not transient', async () => {
  const duplicate = await failure(() =>
    db.primary.$executeRawUnsafe('INSERT INTO transient_rows (id) VALUES (1)'),
  );
  assert.equal(transientErrorCode(duplicate), undefined, String(duplicate));
  const syntax = await failure(() => db.primary.$queryRawUnsafe('SELEC 1'));
  assert.equal(transientErrorCode(syntax), undefined, String(syntax));
  const division = await failure(() => db.primary.$queryRawUnsafe('SELECT 1 / 0'));
  assert.equal(transientErrorCode(division), undefined, String(division));
  assert.equal(transientErrorCode(new Error('handler refused seq 2')), undefined);
  assert.equal(transientErrorCode(new InvalidEventError('data off contract')), undefined);
  assert.equal(transientErrorCode(undefined), undefined);
});

test.run();
