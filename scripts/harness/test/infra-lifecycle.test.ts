// The shared instance's lifecycle, run on its own directory and ports so the real one is not disturbed.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEnvFile } from '../src/infra/env-file.ts';
import { repoRoot } from '../src/infra/paths.ts';
import { freePortRange, freePorts, isPortFree } from '../src/infra/ports.ts';
import { query } from '../src/infra/postgres-node.ts';
import {
  isAlive,
  type ProcessRef,
  pidsWithCmdlinePrefix,
  pidsWithCwdUnder,
  refOf,
  run,
  waitFor,
} from '../src/infra/processes.ts';
import type { SharedState } from '../src/infra/shared-instance.ts';
import { listShm } from '../src/infra/shm.ts';
import { removeOrphanedTempDirs, tempBase } from '../src/infra/temp-dirs.ts';

// On tmpfs like the private instances: this test is about lifecycle, not disk.
const dir = fs.mkdtempSync(path.join(tempBase(), 'souk-lifecycle-'));
const pgPort = await freePortRange(2);
const redisPort = await freePortRange(6);
const busPort = await freePortRange(6);
const [controlPort] = await freePorts(1);
const ports = [
  pgPort,
  pgPort + 1,
  ...Array.from({ length: 6 }, (_, i) => redisPort + i),
  ...Array.from({ length: 6 }, (_, i) => busPort + i),
  controlPort!,
];
const env: NodeJS.ProcessEnv = {
  ...process.env,
  SOUK_INFRA_DIR: dir,
  SOUK_INFRA_PG_PORT: String(pgPort),
  SOUK_INFRA_REDIS_PORT: String(redisPort),
  SOUK_INFRA_REDIS_BUS_PORT: String(busPort),
  SOUK_INFRA_KAFKA_CONTROL_PORT: String(controlPort),
};
delete env['SOUK_INFRA_ENV'];
const envFile = path.join(dir, 'infra.env');
const stateFile = path.join(dir, 'state.json');

const infra = (cmd: string) => run('bash', ['scripts/infra', cmd], { cwd: repoRoot, env, allowFail: true });
const node = (file: string) =>
  run(process.execPath, ['--import', 'tsx', file], {
    cwd: path.join(repoRoot, 'scripts/harness'),
    env,
    allowFail: true,
  });
const readState = () => JSON.parse(fs.readFileSync(stateFile, 'utf8')) as SharedState;

/** Everything of the instance still around: processes, ports, shared memory, files. */
async function leftovers(pids: ProcessRef[], shmIds: number[]): Promise<string[]> {
  const found: string[] = [];
  for (const p of pids) if (isAlive(p)) found.push(`pid ${p.pid} alive`);
  for (const sub of ['pg', 'redis', 'kafka']) {
    for (const p of pidsWithCwdUnder(path.join(dir, sub))) found.push(`pid ${p.pid} runs in ${sub}`);
  }
  for (const port of ports) if (!(await isPortFree(port))) found.push(`port ${port} busy`);
  const segments = new Set(listShm().map((s) => s.shmid));
  for (const id of shmIds) if (segments.has(id)) found.push(`shm ${id} remains`);
  for (const f of ['pg', 'redis', 'kafka', 'state.json', 'infra.env']) {
    if (fs.existsSync(path.join(dir, f))) found.push(`${f} remains`);
  }
  return found;
}

/** Files in /dev/shm a process has mapped (POSIX shared memory). */
function mappedShmFiles(pid: number): string[] {
  try {
    const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    return [...new Set(maps.match(/\/dev\/shm\/\S+/g) ?? [])];
  } catch {
    return [];
  }
}

/** Every process of the instance, the postmasters' children included. */
function processesOf(s: SharedState): ProcessRef[] {
  const pg = [s.pg!.primary, s.pg!.replica];
  const children = pg.flatMap((n) => pidsWithCmdlinePrefix(`postgres: ${n.clusterName}: `)).map(refOf);
  return [...pg.map((n) => n.postmaster!), ...s.redis!.nodes.map((n) => n.proc), s.kafka!.proc, ...children];
}

test.after(async () => {
  await infra('down');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('two concurrent `up`s: one starts the instance, the other waits and reuses it', async () => {
  const [a, b] = await Promise.all([infra('up'), infra('up')]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  const verbs = [a.stdout, b.stdout].map((o) =>
    o.includes('infra started') ? 'started' : o.includes('already up') ? 'reused' : o,
  );
  assert.equal(verbs.sort(), ['reused', 'started']);
  const settings = parseEnvFile(envFile);
  assert.ok(settings, 'infra.env written');
  assert.is(settings!.SOUK_PG_PRIMARY_URL, `postgres://postgres@127.0.0.1:${pgPort}/postgres`);
  assert.is(settings!.SOUK_REDIS_NODES.split(',').length, 6);
  assert.is(settings!.SOUK_KAFKA_BROKERS.split(',').length, 3);
  assert.is(settings!.SOUK_KAFKA_CONTROL, `127.0.0.1:${controlPort}`);
  const status = await infra('status');
  assert.is(status.code, 0, status.stdout);
  assert.match(status.stdout, /ok\s+postgres/);
  assert.match(status.stdout, /ok\s+redis/);
  assert.match(status.stdout, /ok\s+kafka-mock/);
});

test('a suite that dies before close() still drops its database and lets go of the instance', async () => {
  const r = await node('test/fixtures/crashing-suite.ts');
  assert.is.not(r.code, 0, 'the fixture crashed');
  assert.match(r.stderr, /boom/);
  const { databaseName, adminUrl } = JSON.parse(r.stdout.trim().split('\n')[0]!) as Record<string, string>;
  const rows = await query(adminUrl!, 'SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
  assert.is(rows.length, 0, 'database dropped');
  const leases = fs.existsSync(path.join(dir, 'leases')) ? fs.readdirSync(path.join(dir, 'leases')) : [];
  assert.equal(leases, []);
  assert.is((await infra('status')).code, 0, 'an instance started by `up` stays up');
});

test('`down` after crashes (SIGKILLed postmaster, Redis master, Kafka mock) leaves nothing behind', async () => {
  const s = readState();
  const pids = processesOf(s);
  const shmIds = [s.pg!.primary.shmId!, s.pg!.replica.shmId!];
  const shmFiles = pids.flatMap((p) => mappedShmFiles(p.pid));
  process.kill(s.pg!.primary.postmaster!.pid, 'SIGKILL');
  process.kill(s.redis!.nodes[0]!.proc.pid, 'SIGKILL');
  process.kill(s.kafka!.proc.pid, 'SIGKILL');
  assert.ok(
    listShm().some((seg) => seg.shmid === s.pg!.primary.shmId),
    'the killed postmaster left its shared memory behind',
  );
  const down = await infra('down');
  assert.is(down.code, 0, down.stderr);
  assert.equal(await leftovers(pids, shmIds), []);
  assert.equal(
    shmFiles.filter((f) => fs.existsSync(f)),
    [],
    'no POSIX shared memory left in /dev/shm',
  );
  assert.is((await infra('status')).code, 1, 'status reports it down');
});

test('a suite that started the instance and then crashes stops it on the way out', async () => {
  const r = await node('test/fixtures/crashing-suite.ts');
  assert.is.not(r.code, 0);
  assert.equal(await leftovers([], []), []);
});

test('private instances of a process that crashes are stopped and removed', async () => {
  const r = await node('test/fixtures/crashing-private.ts');
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /boom/);
  const { pid, ports: used } = JSON.parse(r.stdout.trim().split('\n')[0]!) as {
    pid: number;
    ports: number[];
  };
  for (const port of used) assert.ok(await isPortFree(port), `port ${port} freed`);
  const dirs = fs.readdirSync(tempBase()).filter((d) => d.startsWith('souk-') && d.includes(`-${pid}-`));
  assert.equal(dirs, [], 'temp dirs removed');
});

test('private instances of a SIGKILLed process stop by themselves; the next starter removes their dirs', async () => {
  const r = await node('test/fixtures/killed-private.ts');
  assert.is(r.signal, 'SIGKILL', r.stderr);
  const {
    pid,
    ports: used,
    postmasters,
  } = JSON.parse(r.stdout.trim().split('\n')[0]!) as {
    pid: number;
    ports: number[];
    postmasters: { pid: number; shmId: number }[];
  };
  assert.is(postmasters.length, 2);
  await waitFor(
    'the servers to stop',
    async () => {
      for (const port of used) if (!(await isPortFree(port))) return false;
      return postmasters.every((p) => !isAlive(p.pid));
    },
    20_000,
  );
  const segments = new Set(listShm().map((s) => s.shmid));
  for (const p of postmasters) assert.not.ok(segments.has(p.shmId), `shm ${p.shmId} removed`);
  const ours = () =>
    fs.readdirSync(tempBase()).filter((d) => d.startsWith('souk-') && d.includes(`-${pid}-`));
  assert.ok(ours().length > 0, 'nothing could remove the dirs yet');
  await waitFor(
    'the dirs to be collectable',
    () => {
      removeOrphanedTempDirs();
      return ours().length === 0;
    },
    10_000,
  );
});

test.run();
