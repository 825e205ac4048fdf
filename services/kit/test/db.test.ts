import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { useSuite } from '@souk/harness/suite';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../src/db/database.ts';
import { MigrationError, migrate } from '../src/db/migrate.ts';
import { Health } from '../src/health.ts';
import { Metrics } from '../src/metrics.ts';
import { PrismaClient } from './fixtures/generated/client/client.ts';
import { metricValue } from './support/serve.ts';

const fixtureMigrations = fileURLToPath(new URL('./fixtures/prisma/migrations', import.meta.url));
const migrateCli = fileURLToPath(new URL('../src/db/migrate-cli.ts', import.meta.url));

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const s = await useSuite('kit-db');
const tmpDirs: string[] = [];

/** A fresh database on the suite's primary, so each migration test starts from nothing. */
async function freshDatabase(name: string): Promise<string> {
  const url = new URL(s.databaseUrl);
  const db = `${url.pathname.slice(1)}_${name}`;
  const admin = new pg.Client({ connectionString: s.databaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${db}"`);
  await admin.end();
  url.pathname = `/${db}`;
  return url.toString();
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  const db = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: s.databaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  await admin.end();
}

async function copyMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kit-migrations-'));
  tmpDirs.push(dir);
  await cp(fixtureMigrations, dir, { recursive: true });
  return dir;
}

async function sql<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', migrateCli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const migrations = suite('migrations');

migrations.after(async () => {
  await Promise.all(tmpDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

migrations('apply once, are recorded like prisma migrate, and a rerun applies nothing', async () => {
  const url = await freshDatabase('once');
  try {
    const dir = await copyMigrations();
    await mkdir(join(dir, '20260102000000_add_stock'));
    await writeFile(
      join(dir, '20260102000000_add_stock', 'migration.sql'),
      'ALTER TABLE "items" ADD COLUMN "stock" INTEGER NOT NULL DEFAULT 0;\n',
    );
    const first = await migrate({ databaseUrl: url, migrationsDir: dir });
    assert.equal(first.applied, ['20260101000000_init', '20260102000000_add_stock']);
    const rows = await sql<{
      id: string;
      checksum: string;
      finished_at: Date | null;
      migration_name: string;
      logs: string | null;
      rolled_back_at: Date | null;
      started_at: Date;
      applied_steps_count: number;
    }>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    assert.is(rows.length, 2);
    for (const row of rows) {
      assert.match(row.id, /^[0-9a-f-]{36}$/);
      assert.match(row.checksum, /^[0-9a-f]{64}$/);
      assert.ok(row.finished_at instanceof Date);
      assert.is(row.rolled_back_at, null);
      assert.is(row.applied_steps_count, 1);
      assert.ok(row.started_at.getTime() <= row.finished_at!.getTime());
    }
    const expected = createHash('sha256')
      .update(await readFile(join(dir, '20260101000000_init', 'migration.sql')))
      .digest('hex');
    assert.is(rows[0]!.checksum, expected);
    const columns = await sql<{ column_name: string }>(
      url,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY column_name`,
    );
    assert.equal(
      columns.map((c) => c.column_name),
      ['created_at', 'id', 'name', 'price', 'stock'],
    );

    const second = await migrate({ databaseUrl: url, migrationsDir: dir });
    assert.equal(second.applied, []);
    assert.equal(second.alreadyApplied, ['20260101000000_init', '20260102000000_add_stock']);
    const count = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM "_prisma_migrations"');
    assert.is(count[0]!.n, '2');
  } finally {
    await dropDatabase(url);
  }
});

migrations('a migration changed after it was applied is refused before anything runs', async () => {
  const url = await freshDatabase('checksum');
  try {
    const dir = await copyMigrations();
    await migrate({ databaseUrl: url, migrationsDir: dir });
    await writeFile(
      join(dir, '20260101000000_init', 'migration.sql'),
      'CREATE TABLE "items" ("id" SERIAL PRIMARY KEY);\n',
    );
    await mkdir(join(dir, '20260103000000_later'));
    await writeFile(join(dir, '20260103000000_later', 'migration.sql'), 'CREATE TABLE "later" ("id" INT);\n');
    try {
      await migrate({ databaseUrl: url, migrationsDir: dir });
      assert.unreachable('a modified migration must be refused');
    } catch (err) {
      assert.instance(err, MigrationError);
      assert.is((err as MigrationError).migration, '20260101000000_init');
      assert.match((err as Error).message, /modified after it was applied/);
    }
    const later = await sql<{ n: string }>(
      url,
      `SELECT count(*) AS n FROM pg_tables WHERE tablename = 'later'`,
    );
    assert.is(later[0]!.n, '0', 'nothing after the refusal ran');
    const cli = await runCli(['--schema', dir, '--url', url]);
    assert.is(cli.code, 1);
    assert.match(cli.out, /modified after it was applied/);
  } finally {
    await dropDatabase(url);
  }
});

migrations('a failing migration is rolled back whole and recorded as rolled back', async () => {
  const url = await freshDatabase('failing');
  try {
    const dir = await copyMigrations();
    await mkdir(join(dir, '20260104000000_broken'));
    await writeFile(
      join(dir, '20260104000000_broken', 'migration.sql'),
      'CREATE TABLE "half" ("id" INT);\nALTER TABLE "missing" ADD COLUMN "x" INT;\n',
    );
    try {
      await migrate({ databaseUrl: url, migrationsDir: dir });
      assert.unreachable('the broken migration must fail');
    } catch (err) {
      assert.instance(err, MigrationError);
      assert.is((err as MigrationError).migration, '20260104000000_broken');
    }
    const half = await sql<{ n: string }>(
      url,
      `SELECT count(*) AS n FROM pg_tables WHERE tablename = 'half'`,
    );
    assert.is(half[0]!.n, '0', 'the first statement of the failed migration was rolled back');
    const rows = await sql<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      url,
      'SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name',
    );
    assert.is(rows.length, 2);
    assert.ok(rows[0]!.finished_at, 'init applied');
    assert.is(rows[1]!.finished_at, null);
    assert.ok(rows[1]!.rolled_back_at, 'broken recorded as rolled back');
  } finally {
    await dropDatabase(url);
  }
});

migrations('two migrators started at once (two processes) apply each migration exactly once', async () => {
  const url = await freshDatabase('race');
  try {
    const dir = await copyMigrations();
    // A slow migration widens the window in which a second migrator would otherwise race.
    await mkdir(join(dir, '20260105000000_slow'));
    await writeFile(
      join(dir, '20260105000000_slow', 'migration.sql'),
      'SELECT pg_sleep(0.5);\nCREATE TABLE "slow" ("id" INT);\n',
    );
    const results = await Promise.all([
      runCli(['--schema', dir, '--url', url]),
      runCli(['--schema', dir, '--url', url]),
      migrate({ databaseUrl: url, migrationsDir: dir }).then((r) => ({
        code: 0,
        out: `${r.applied.length} applied`,
      })),
    ]);
    for (const r of results) assert.is(r.code, 0, r.out);
    const appliedCounts = results.map((r) => Number(/(\d+) applied/.exec(r.out)?.[1]));
    assert.equal(
      appliedCounts.sort(),
      [0, 0, 2],
      `one migrator applied both, the others none: ${results.map((r) => r.out).join(' | ')}`,
    );
    const rows = await sql<{ migration_name: string; n: string }>(
      url,
      'SELECT migration_name, count(*) AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY 1',
    );
    assert.equal(
      rows.map((r) => [r.migration_name, r.n]),
      [
        ['20260101000000_init', '1'],
        ['20260105000000_slow', '1'],
      ],
    );
  } finally {
    await dropDatabase(url);
  }
});

migrations.run();

const factory = suite('prisma client factory');
let db: Awaited<ReturnType<typeof openDatabase<PrismaClient>>>;

factory.before(async () => {
  db = await openDatabase(PrismaClient, {
    url: s.databaseUrl,
    replicaUrls: [s.replicaDatabaseUrl],
    migrationsDir: fixtureMigrations,
    migrate: true,
    applicationName: 'kit-db-test',
  });
});

factory.after(async () => {
  await db.close();
  await s.close();
});

factory('migrates at start: the fixture table exists and the bookkeeping says so', async () => {
  const rows = await sql<{ migration_name: string }>(
    s.databaseUrl,
    'SELECT migration_name FROM "_prisma_migrations"',
  );
  assert.equal(
    rows.map((r) => r.migration_name),
    ['20260101000000_init'],
  );
});

factory('the replica client talks to the standby and the primary client to the primary', async () => {
  type Where = { port: number; standby: boolean }[];
  const onReplica = await db.client.$replica().$queryRaw<Where>`
    SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby`;
  const onPrimary = await db.client.$primary().$queryRaw<Where>`
    SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby`;
  assert.is(onReplica[0]!.standby, true);
  assert.is(onReplica[0]!.port, Number(new URL(s.replicaDatabaseUrl).port));
  assert.is(onPrimary[0]!.standby, false);
  assert.is(onPrimary[0]!.port, Number(new URL(s.databaseUrl).port));
});

factory('writes go to the primary, model reads to the replica', async () => {
  exporter.reset();
  const created = await db.client.item.create({ data: { name: 'lamp', price: 1200 } });
  // The write is on the primary at once; give streaming replication a moment before reading it back.
  let found: { id: number; name: string } | null = null;
  for (let i = 0; i < 100 && !found; i++) {
    found = await db.client.item.findUnique({ where: { id: created.id } });
    if (!found) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(found?.name, 'lamp');
  const marker = `kit_routing_${Date.now()}`;
  await db.client.item.count({ where: { name: marker } });

  // The replica's own view: the last statement of our replica pool's session is the count() above.
  const sessions = await sql<{ query: string; standby: boolean }>(
    s.replicaDatabaseUrl,
    `SELECT query, pg_is_in_recovery() AS standby FROM pg_stat_activity
     WHERE application_name = 'kit-db-test-replica' AND datname = current_database()`,
  );
  assert.ok(sessions.length > 0, 'the replica has sessions from the replica pool');
  assert.ok(sessions.every((row) => row.standby));
  assert.ok(
    sessions.some((row) => /SELECT COUNT/i.test(row.query) && /"items"/.test(row.query)),
    `a count on items ran on the replica: ${sessions.map((r) => r.query).join(' | ')}`,
  );
  const onPrimary = await sql<{ query: string }>(
    s.databaseUrl,
    `SELECT query FROM pg_stat_activity WHERE application_name = 'kit-db-test-primary' AND datname = current_database()`,
  );
  assert.ok(
    onPrimary.some((row) => /INSERT INTO/i.test(row.query)),
    `the insert ran on the primary: ${onPrimary.map((r) => r.query).join(' | ')}`,
  );
  assert.not.ok(onPrimary.some((row) => /SELECT COUNT/i.test(row.query)));

  const spans = exporter.getFinishedSpans();
  const byName = (name: string) => spans.find((span) => span.name === name);
  assert.is(byName('prisma Item.create')?.attributes['souk.db.target'], 'primary');
  assert.is(byName('prisma Item.count')?.attributes['souk.db.target'], 'replica');
  assert.is(byName('prisma Item.count')?.attributes['db.system.name'], 'postgresql');
});

factory('a transaction stays on the primary, reads included', async () => {
  const names = await db.client.$transaction(async (tx) => {
    await tx.item.create({ data: { name: 'in-tx', price: 1 } });
    return (await tx.item.findMany({ where: { name: 'in-tx' } })).map((i) => i.name);
  });
  assert.equal(names, ['in-tx'], 'the read inside the transaction saw its own write');
});

factory('readiness: db and db-replica checks are up', async () => {
  const health = new Health();
  db.registerHealth(health);
  const readiness = await health.readiness();
  assert.is(readiness.status, 'ok');
  assert.is(readiness.checks['db']?.status, 'up');
  assert.is(readiness.checks['db']?.critical, true);
  assert.is(readiness.checks['db-replica']?.status, 'up');
  assert.is(readiness.checks['db-replica']?.critical, false);
  assert.equal(await db.check(), { status: 'ok' });
});

factory(
  'an unreachable replica: reads run on the primary, readiness is degraded, fallbacks are counted',
  async () => {
    const metrics = new Metrics({ service: 'kit-db-test', defaultMetrics: false });
    const dead = new URL(s.replicaDatabaseUrl);
    dead.port = '1';
    const degraded = await openDatabase(PrismaClient, {
      url: s.databaseUrl,
      replicaUrls: [dead.toString()],
      connectTimeoutMs: 1_000,
      metrics,
    });
    try {
      await degraded.client.item.create({ data: { name: 'fallback', price: 5 } });
      const found = await degraded.client.item.findMany({ where: { name: 'fallback' } });
      assert.is(found.length, 1, 'the read ran on the primary and saw the fresh write');
      assert.is(await degraded.client.item.count({ where: { name: 'fallback' } }), 1);
      type Where = { standby: boolean }[];
      const where = await degraded.client.$replica().$queryRaw<Where>`SELECT pg_is_in_recovery() AS standby`;
      assert.is(where[0]!.standby, false);
      assert.is(await metricValue(metrics, 'souk_db_replica_fallbacks_total'), 3);
      const health = new Health();
      degraded.registerHealth(health);
      const readiness = await health.readiness();
      assert.is(readiness.status, 'degraded');
      assert.is(readiness.checks['db']?.status, 'up');
      assert.is(readiness.checks['db-replica']?.status, 'down');
    } finally {
      await degraded.close();
    }
  },
);

factory.run();
