import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defineBench, fixedRate, httpGet, httpThroughput, median } from '@souk/harness/bench';
import { useSuite } from '@souk/harness/suite';
import pg from 'pg';

const serverScript = fileURLToPath(new URL('./kit-server.ts', import.meta.url));

interface Running {
  url: string;
  stop(): Promise<void>;
}

async function start(mode: 'bare' | 'kit' | 'cached', env: Record<string, string> = {}): Promise<Running> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', serverScript, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
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
 * The data half of the kit under load:
 * - overhead: the same hello on bare Koa + router and on the kit's service, alternated three times;
 * - a cached GET (Redis Cluster read-through over Postgres) at a fixed 1000 rps, smooth open loop.
 */
export default defineBench('kit', async (b) => {
  const load = { connections: 50, seconds: 5 };
  const bareRps: number[] = [];
  const kitRps: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const mode of ['bare', 'kit'] as const) {
      const server = await start(mode);
      try {
        await httpThroughput(`${server.url}/hello`, { connections: 10, seconds: 1 });
        const r = await httpThroughput(`${server.url}/hello`, load);
        if (r.errors || r.non2xx) throw new Error(`${mode}: ${r.errors} errors, ${r.non2xx} non-2xx`);
        (mode === 'bare' ? bareRps : kitRps).push(r.requestsPerSecond);
      } finally {
        await server.stop();
      }
    }
  }
  b.log(`bare Koa hello req/s: ${bareRps.map(Math.round).join(', ')}`);
  b.log(`kit hello req/s:      ${kitRps.map(Math.round).join(', ')}`);
  b.record({
    name: 'kit hello (median of 3)',
    value: Math.round(median(kitRps)),
    unit: 'req/s',
    baseline: Math.round(median(bareRps)),
    baselineName: 'bare Koa + router hello',
    target: 'ratio >= 0.7',
  });

  const s = await useSuite('kit-bench');
  try {
    const pool = new pg.Pool({ connectionString: s.databaseUrl });
    await pool.query(
      'CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, description text NOT NULL, price int NOT NULL)',
    );
    await pool.query(
      `INSERT INTO items SELECT i, 'item ' || i, repeat('a fine thing ', 70), i * 100 FROM generate_series(1, 1000) i`,
    );
    await pool.end();
    const server = await start('cached', {
      DATABASE_URL: s.databaseUrl,
      REDIS_NODES: JSON.stringify(s.redisNodes),
      KEY_PREFIX: s.keyPrefix,
    });
    try {
      // Fill the cache, then measure hits only.
      for (let id = 1; id <= 1000; id++) await httpGet(`${server.url}/items/${id}`);
      let i = 0;
      const r = await fixedRate(() => httpGet(`${server.url}/items/${(i++ % 1000) + 1}`), {
        rps: 1000,
        seconds: 15,
        warmupMs: 2000,
      });
      b.log(
        `cached GET at 1000 rps: p50 ${r.p50.toFixed(2)} ms, p90 ${r.p90.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ` +
          `max ${r.max.toFixed(1)} ms, achieved ${Math.round(r.achievedRps)} rps, ${r.errors} errors`,
      );
      if (r.errors) throw new Error(`${r.errors} failed requests`);
      b.record({ name: 'cached GET p50 at 1000 rps', value: r.p50, unit: 'ms' });
      b.record({ name: 'cached GET p99 at 1000 rps', value: r.p99, unit: 'ms', target: 'value < 10' });
    } finally {
      await server.stop();
    }
  } finally {
    await s.close();
  }
});
