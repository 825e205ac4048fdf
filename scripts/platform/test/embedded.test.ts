import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePortRange } from '@souk/harness/infra/ports';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runDemo } from '../src/demo.ts';
import { createGateway } from '../src/gateway.ts';
import { chooseInfra, type InfraProbe } from '../src/infra-choice.ts';
import { type LocalInfra, startLocalInfra } from '../src/local-infra.ts';
import { DEMO_ADMIN, seed } from '../src/seed.ts';
import { localRoutes, localServiceEnv, localServices } from '../src/services.ts';
import { Supervisor } from '../src/supervisor.ts';

const installed = (missing: string[] = []): InfraProbe => ({
  pgBinDir: '/pg/bin',
  exists: (f) => !missing.includes(path.basename(f)),
  onPath: (c) => !missing.includes(c),
});

test('the servers where they are installed, stand-ins where not or when SOUK_EMBEDDED asks', () => {
  const all = chooseInfra({}, installed());
  assert.equal([all.postgres, all.redis, all.reasons], ['server', 'server', []]);

  const noPg = chooseInfra({}, installed(['initdb']));
  assert.equal([noPg.postgres, noPg.redis], ['embedded', 'server']);
  assert.match(noPg.reasons.join('\n'), /\/pg\/bin\/initdb missing; apt-get install postgresql/);
  assert.match(noPg.reasons.join('\n'), /no replication/);

  const noRedis = chooseInfra({}, installed(['redis-cli']));
  assert.equal([noRedis.postgres, noRedis.redis], ['server', 'none']);
  assert.match(noRedis.reasons.join('\n'), /caches off/);

  for (const value of ['1', 'all', 'postgres,redis']) {
    const forced = chooseInfra({ SOUK_EMBEDDED: value }, installed());
    assert.equal([forced.postgres, forced.redis], ['embedded', 'none'], value);
  }
  assert.equal(chooseInfra({ SOUK_EMBEDDED: 'redis' }, installed()).postgres, 'server');
  assert.equal(chooseInfra({ SOUK_EMBEDDED: '0' }, installed()).postgres, 'server');
  assert.throws(() => chooseInfra({ SOUK_EMBEDDED: 'mysql' }, installed()), /SOUK_EMBEDDED=mysql: expected/);
});

// The whole platform as `npm start` runs it without PostgreSQL or Redis servers: PGlite behind
// pglite-socket (a server per service database), no Redis, the real services as child processes.
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'souk-embedded-'));
let infra: LocalInfra | undefined;
let supervisor: Supervisor | undefined;
let gateway: http.Server | undefined;
let base = '';
const services = localServices(await freePortRange(5));

async function startPlatform(): Promise<void> {
  infra = await startLocalInfra({
    choice: chooseInfra({ SOUK_EMBEDDED: '1' }, installed()),
    services: services.map((s) => s.name),
    stateDir,
    embeddedBasePort: await freePortRange(services.length),
  });
  const ready = infra;
  supervisor = new Supervisor({
    logDir: path.join(stateDir, 'logs'),
    readyTimeoutMs: 120_000,
    env: (s) =>
      localServiceEnv(s, services, ready.serviceEnv(s.name), {
        LOG_LEVEL: 'info',
        ADMIN_EMAIL: DEMO_ADMIN.email,
        ADMIN_PASSWORD: DEMO_ADMIN.password,
      }),
  });
  for (const s of services) await supervisor.start(s);
  const routes = localRoutes(services);
  const g = createGateway(() => routes);
  gateway = g;
  await new Promise<void>((resolve) => g.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(g.address() as AddressInfo).port}`;
}

async function stopPlatform(): Promise<void> {
  if (gateway) {
    gateway.closeAllConnections();
    await new Promise((r) => gateway?.close(r));
    gateway = undefined;
  }
  await supervisor?.stop();
  supervisor = undefined;
  await infra?.release();
  infra = undefined;
}

test.after(async () => {
  await stopPlatform();
  rmSync(stateDir, { recursive: true, force: true });
});

test('services get the primary as replica, a small pool, polling relays and no Redis', async () => {
  await startPlatform();
  const env = infra!.serviceEnv('orders');
  assert.is(env['DATABASE_REPLICA_URL'], env['DATABASE_URL']);
  assert.is(env['DATABASE_POOL_SIZE'], '4');
  assert.is(env['OUTBOX_POLL_MS'], '100');
  assert.is(env['REDIS_NODES'], undefined);
  assert.match(
    infra!
      .summary()
      .map(([k, v]) => `${k} ${v}`)
      .join('\n'),
    /embedded PGlite[\s\S]*Redis Cluster none/,
  );
});

test('every service migrated its database and is ready, caches and Redis disabled', async () => {
  for (const s of services) {
    const res = await fetch(`http://127.0.0.1:${s.port}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string }> };
    assert.is(res.status, 200, s.name);
    assert.is(body.checks['db']?.status, 'up', `${s.name} db`);
    assert.is(body.checks['redis']?.status, 'disabled', `${s.name} redis`);
    const client = new pg.Client({ connectionString: infra!.serviceEnv(s.name)['DATABASE_URL'] });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      );
      assert.ok((rows[0]?.n ?? 0) >= 2, `${s.name}: the events and its own migrations`);
    } finally {
      await client.end();
    }
  }
  const inventory = await (await fetch(`http://127.0.0.1:${services[1]!.port}/readyz`)).json();
  assert.is(
    (inventory as { checks: Record<string, { status: string }> }).checks['cache']?.status,
    'disabled',
  );
});

test('data is written and read through the API, the order saga runs to its end', async () => {
  const seeded = await seed(base);
  assert.is(seeded.created.items, 5);
  assert.ok(seeded.created.customer);
  // Many connections' queries at once, each with its own parameters: every answer must be its own.
  const reads = await Promise.all(
    Object.values(seeded.items).flatMap((item) =>
      Array.from({ length: 6 }, async () => {
        const res = await fetch(`${base}/items/${item.id}`);
        const body = (await res.json()) as { id?: string };
        return `${res.status} ${body.id === item.id ? 'own item' : `other: ${JSON.stringify(body)}`}`;
      }),
    ),
  );
  assert.equal(
    reads,
    reads.map(() => '200 own item'),
  );

  const results = await runDemo(base, seeded, { timeoutMs: 90_000 });
  assert.equal(
    results.map((r) => [r.step.label, r.order.status, r.asExpected]),
    results.map((r) => [r.step.label, r.step.expect.status, true]),
  );
});

test('without Redis a logout still counts in every service within seconds: they ask users', async () => {
  const signIn = await fetch(`${base}/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(DEMO_ADMIN),
  });
  assert.is(signIn.status, 201);
  const { accessToken } = (await signIn.json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}` };
  const reads = ['/orders', '/notifications'];
  for (const p of reads) assert.is((await fetch(`${base}${p}`, { headers: auth })).status, 200, p);

  const loggedOut = await fetch(`${base}/sessions/current`, { method: 'DELETE', headers: auth });
  assert.is(loggedOut.status, 204);
  const t0 = Date.now();
  const refused = async () =>
    (await Promise.all(reads.map((p) => fetch(`${base}${p}`, { headers: auth })))).every(
      (r) => r.status === 401,
    );
  while (!(await refused())) {
    assert.ok(Date.now() - t0 < 15_000, 'the revoked token still works after 15 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  // Reused answers last 5 s, the token 15 min: the revocation, not the expiry, refused it.
  assert.ok(Date.now() - t0 < 10_000);
});

test('events left through the outbox without LISTEN/NOTIFY: relays poll', async () => {
  for (const name of ['users', 'inventory', 'orders', 'payments']) {
    const client = new pg.Client({ connectionString: infra!.serviceEnv(name)['DATABASE_URL'] });
    await client.connect();
    try {
      const { rows } = await client.query<{ sent: number; pending: number }>(
        `SELECT count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS sent,
                count(*) FILTER (WHERE sent_at IS NULL)::int AS pending FROM souk_outbox`,
      );
      assert.ok((rows[0]?.sent ?? 0) > 0, `${name} published events`);
    } finally {
      await client.end();
    }
  }
});

test('the data outlives a restart: the embedded databases live under the state directory', async () => {
  await stopPlatform();
  await startPlatform();
  const again = await seed(base);
  assert.equal(again.created, { customer: false, items: 0 });
});

test.run();
