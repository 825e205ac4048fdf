import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { defineBench, fixedRate, httpGet } from '@souk/harness/bench';
import { type Suite, useSuite } from '@souk/harness/suite';
import { inventoryDatabase } from '../src/data/database.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

interface Running {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The real service (src/main.ts) as its own process; `redisNodes` dead = every read from the database. */
async function start(s: Suite, redisNodes: string): Promise<Running> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      ...process.env,
      SERVICE_NAME: 'inventory',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'error',
      DATABASE_URL: s.databaseUrl,
      DATABASE_REPLICA_URL: s.replicaDatabaseUrl,
      REDIS_NODES: redisNodes,
      KAFKA_BROKERS: s.kafkaBrokers.join(','),
      USERS_URL: 'http://127.0.0.1:9',
      REDIS_KEY_PREFIX: s.keyPrefix,
      KAFKA_TOPIC_PREFIX: `${s.id}.`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`inventory exited with ${child.exitCode}`);
    if (
      await httpGet(`${url}/livez`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error('inventory did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Closed loop over many items (50 workers, each GET after the previous answered), so the figure is the
 * cost of a read, not of one hot key that single-flight would share between concurrent requests.
 */
async function throughput(urlOf: (i: number) => string, seconds: number, connections = 50) {
  let done = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        try {
          await httpGet(urlOf(next++));
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { requestsPerSecond: done / ((performance.now() - started) / 1000), errors };
}

/**
 * Public item reads under load: `GET /items/:id` served from the Redis Cluster against the same
 * service whose Redis is unreachable (every read goes to the Postgres replica: the "Redis down"
 * path), alternated over rounds; then the cached GET's latency at a fixed 1000 rps, open loop.
 */
export default defineBench('inventory', async (b) => {
  const s = await useSuite('inventory-bench');
  const redis = s.redisNodes.map((n) => `${n.host}:${n.port}`).join(',');
  const ids: string[] = [];
  try {
    // The first start applies the migrations; then 1000 items.
    const first = await start(s, redis);
    await first.stop();
    const db = await inventoryDatabase.open({ url: s.databaseUrl, poolSize: 1 });
    const owner = randomUUID();
    for (let i = 0; i < 1000; i++) ids.push(randomUUID());
    await db.primary.$executeRawUnsafe(
      `INSERT INTO items (id, owner_id, title, description, price_cents, currency, quantity)
       SELECT id, $2::uuid, 'item ' || n, repeat('a fine thing ', 40), n * 100, 'EUR', 10
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
      ids,
      owner,
    );
    await db.close();
    await s.waitForReplica();

    const rounds: { cached: number; uncached: number; ratio: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const rps = { cached: 0, uncached: 0 };
      for (const mode of ['cached', 'uncached'] as const) {
        const server = await start(s, mode === 'cached' ? redis : '127.0.0.1:1');
        try {
          const urlOf = (i: number) => `${server.url}/items/${ids[i % ids.length]}`;
          // Warm-up: the cached server's entries are filled, both servers' connections opened.
          for (const id of ids) await httpGet(`${server.url}/items/${id}`);
          await throughput(urlOf, 1, 10);
          const r = await throughput(urlOf, 5);
          if (r.errors) throw new Error(`${mode}: ${r.errors} errors`);
          rps[mode] = r.requestsPerSecond;
        } finally {
          await server.stop();
        }
      }
      rounds.push({ ...rps, ratio: rps.cached / rps.uncached });
      b.log(
        `round ${round + 1}: cached ${Math.round(rps.cached)} req/s, uncached ${Math.round(rps.uncached)} req/s`,
      );
    }
    const middle = [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)]!;
    b.record({
      name: 'cached GET /items/:id (round with the median ratio of 3)',
      value: Math.round(middle.cached),
      unit: 'req/s',
      baseline: Math.round(middle.uncached),
      baselineName: 'the same GET with Redis unreachable (served from the Postgres replica), same round',
      target: 'ratio >= 1.5',
    });

    const server = await start(s, redis);
    try {
      for (const id of ids) await httpGet(`${server.url}/items/${id}`);
      let i = 0;
      const r = await fixedRate(() => httpGet(`${server.url}/items/${ids[i++ % ids.length]}`), {
        rps: 1000,
        seconds: 15,
        warmupMs: 2000,
      });
      b.log(
        `cached GET at 1000 rps: p50 ${r.p50.toFixed(2)} ms, p90 ${r.p90.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ` +
          `max ${r.max.toFixed(1)} ms, achieved ${Math.round(r.achievedRps)} rps, ${r.errors} errors`,
      );
      if (r.errors) throw new Error(`${r.errors} failed requests`);
      b.record({ name: 'cached GET /items/:id p50 at 1000 rps', value: r.p50, unit: 'ms' });
      b.record({
        name: 'cached GET /items/:id p99 at 1000 rps',
        value: r.p99,
        unit: 'ms',
        target: 'value < 20',
      });
    } finally {
      await server.stop();
    }
  } finally {
    await s.close();
  }
});
