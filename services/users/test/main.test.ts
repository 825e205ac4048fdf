import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useSuite } from '@souk/harness/suite';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { call, PASSWORD } from './support.ts';

const s = await useSuite('users-main');
const root = fileURLToPath(new URL('..', import.meta.url));
const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env['PATH'] ?? '',
  DATABASE_URL: s.databaseUrl,
  DATABASE_REPLICA_URL: s.replicaDatabaseUrl,
  REDIS_NODES: s.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
  KAFKA_BROKERS: s.kafkaBrokers.join(','),
  REDIS_KEY_PREFIX: s.keyPrefix,
  KAFKA_TOPIC_PREFIX: `${s.id}.`,
  HOST: '127.0.0.1',
  ...extra,
});

function run(script: string, vars: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: vars,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function tables(): Promise<string[]> {
  const client = new pg.Client({ connectionString: s.databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ t: string }>(
    `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  await client.end();
  return rows.map((r) => r.t);
}

let server: ChildProcess | undefined;

test('production mode does not migrate by itself and refuses to start without a signing key', async () => {
  const noKey = run('src/main.ts', env({ NODE_ENV: 'production', PORT: '0' }));
  assert.is(await noKey.exited, 78, noKey.output());
  assert.match(noKey.output(), /JWT_PRIVATE_KEY/);
  assert.equal(await tables(), []);
});

test('src/migrate.ts applies the event tables and the migrations, and is idempotent', async () => {
  const { DATABASE_URL: _, ...withoutUrl } = env();
  const unset = run('src/migrate.ts', withoutUrl);
  assert.is(await unset.exited, 78, unset.output());
  assert.match(unset.output(), /DATABASE_URL is required/);
  const unreachable = run('src/migrate.ts', env({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }));
  assert.is(await unreachable.exited, 1, unreachable.output());
  assert.match(unreachable.output(), /migration failed/);
  const first = run('src/migrate.ts', env());
  assert.is(await first.exited, 0, first.output());
  assert.match(first.output(), /applied migration 20261121230000_init/);
  for (const t of [
    '_prisma_migrations',
    'refresh_tokens',
    'session_families',
    'signing_keys',
    'souk_inbox',
    'souk_outbox',
    'users',
  ]) {
    assert.ok((await tables()).includes(t), t);
  }
  const second = run('src/migrate.ts', env());
  assert.is(await second.exited, 0, second.output());
  assert.not.match(second.output(), /applied migration/);
});

test('src/main.ts serves, rate-limits /tokens/validate per address, and exits 0 on SIGTERM', async () => {
  const port = String(20_000 + Math.floor(Math.random() * 20_000));
  const main = run('src/main.ts', env({ NODE_ENV: 'test', PORT: port, VALIDATE_LIMIT_PER_IP: '3' }));
  server = main.child;
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const up = await fetch(`${base}/livez`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (main.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.is((await call(base, 'GET', '/livez')).status, 200, main.output());
  const email = `main-${Date.now()}@example.com`;
  assert.is(
    (await call(base, 'POST', '/users', { body: { email, password: PASSWORD, name: 'Main' } })).status,
    201,
  );
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await call(base, 'POST', '/tokens/validate', {
      body: { token: 'x' },
      headers: { 'X-Forwarded-For': '203.0.113.9' },
    });
    statuses.push(r.status);
    if (r.status === 429) {
      assert.is(r.headers.get('content-type'), 'application/problem+json');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
  }
  assert.equal(statuses, [200, 200, 200, 429]);
  main.child.kill('SIGTERM');
  assert.is(await main.exited, 0, main.output());
  server = undefined;
});

test.after(async () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await s.close();
});
test.run();
