import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defineBench, fixedRate, httpGet, httpThroughput } from '@souk/harness/bench';
import { cpuSecondsOfTrees } from '@souk/harness/bench/cpu';
import { useSuite } from '@souk/harness/suite';
import pg from 'pg';

const serverScript = fileURLToPath(new URL('./kit-server.ts', import.meta.url));

interface Running {
  url: string;
  /** CPU seconds the server process has used so far (user + system). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function start(
  mode: 'bare' | 'logged' | 'kit' | 'cached',
  env: Record<string, string> = {},
): Promise<Running> {
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
    cpuSeconds: () => cpuSecondsOfTrees({ server: [child.pid!] }).server,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A cold server spends its first thousands of requests compiling, so warm-up is counted in requests,
 * not seconds: on a busy machine a few seconds may be only a few hundred requests.
 */
async function warmUp(url: string, requests = 10_000, concurrency = 32): Promise<void> {
  let left = requests;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await httpGet(url);
    }),
  );
}

/**
 * The data half of the kit under load:
 * - overhead: the same hello on bare Koa + router, on bare Koa with only the request id, security
 *   headers and access line the kit puts on every answer, and on the kit's service, in 5 rounds;
 * - a cached GET (Redis Cluster read-through over Postgres) at a fixed 1000 rps, smooth open loop.
 */
export default defineBench('kit', async (b) => {
  // Bare, logged and kit back to back in each round, so all see the same background load; a figure
  // is the round with its median ratio (the machine is shared and its load drifts between rounds).
  const load = { connections: 50, seconds: 4 };
  const modes = ['bare', 'logged', 'kit'] as const;
  type Round = Record<(typeof modes)[number], { rps: number; cpuPerRequest: number }>;
  const rounds: Round[] = [];
  for (let round = 0; round < 5; round++) {
    const r = {} as Round;
    for (const mode of modes) {
      const server = await start(mode);
      try {
        await warmUp(`${server.url}/hello`);
        const cpuBefore = server.cpuSeconds();
        const t = await httpThroughput(`${server.url}/hello`, load);
        if (t.errors || t.non2xx) throw new Error(`${mode}: ${t.errors} errors, ${t.non2xx} non-2xx`);
        const cpuPerRequest = (server.cpuSeconds() - cpuBefore) / (t.requestsPerSecond * load.seconds);
        r[mode] = { rps: t.requestsPerSecond, cpuPerRequest };
      } finally {
        await server.stop();
      }
    }
    rounds.push(r);
    b.log(
      `round ${round + 1}: ${modes
        .map(
          (m) => `${m} ${Math.round(r[m].rps)} req/s (${(r[m].cpuPerRequest * 1e6).toFixed(0)} µs CPU/req)`,
        )
        .join(', ')}`,
    );
  }
  const median = (of: (r: Round) => number) =>
    [...rounds].sort((x, y) => of(x) - of(y))[Math.floor(rounds.length / 2)]!;
  const kitRound = median((r) => r.kit.rps / r.bare.rps);
  b.record({
    name: 'kit hello (round with the median ratio of 5)',
    value: Math.round(kitRound.kit.rps),
    unit: 'req/s',
    baseline: Math.round(kitRound.bare.rps),
    baselineName: 'bare Koa + router hello, same round',
    target: 'ratio >= 0.7',
  });
  // What the cheapest kit could reach: bare Koa with only the request id, security headers and access line.
  const loggedRound = median((r) => r.logged.rps / r.bare.rps);
  b.record({
    name: 'bare hello + request id, security headers and access line only (round with the median ratio of 5)',
    value: Math.round(loggedRound.logged.rps),
    unit: 'req/s',
    baseline: Math.round(loggedRound.bare.rps),
    baselineName: 'bare Koa + router hello, same round',
  });
  // The same comparison by server CPU time per request, which background load on the machine disturbs less.
  const cpuRatios = rounds.map((r) => r.bare.cpuPerRequest / r.kit.cpuPerRequest).sort((x, y) => x - y);
  b.record({
    name: 'kit hello CPU efficiency (bare CPU/req ÷ kit CPU/req, median of 5)',
    value: cpuRatios[Math.floor(cpuRatios.length / 2)]!,
    unit: 'ratio',
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
      // Fill the cache and warm the server up, then measure hits only.
      for (let id = 1; id <= 1000; id++) await httpGet(`${server.url}/items/${id}`);
      await warmUp(`${server.url}/items/1`);
      let i = 0;
      const get = () => httpGet(`${server.url}/items/${(i++ % 1000) + 1}`);
      // A rate this shared machine sustains whatever else runs on it, for a figure that is about the code.
      const cpuBefore = server.cpuSeconds();
      const gentle = await fixedRate(get, { rps: 200, seconds: 10, warmupMs: 1000 });
      const cpuPerRequest = (server.cpuSeconds() - cpuBefore) / gentle.sent;
      b.log(
        `cached GET at 200 rps: p50 ${gentle.p50.toFixed(2)} ms, p99 ${gentle.p99.toFixed(2)} ms, ` +
          `server ${(cpuPerRequest * 1e6).toFixed(0)} µs CPU/req, ${gentle.errors} errors`,
      );
      b.record({ name: 'cached GET p99 at 200 rps', value: gentle.p99, unit: 'ms' });
      b.record({ name: 'cached GET server CPU per request', value: cpuPerRequest * 1e6, unit: 'µs' });
      const r = await fixedRate(get, { rps: 1000, seconds: 15, warmupMs: 2000 });
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
