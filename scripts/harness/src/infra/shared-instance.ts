import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type InfraEnv, parseEnvFile, writeEnvFile } from './env-file.ts';
import { type KafkaMockRecord, startKafkaMockIn, stopKafkaMock, stopKafkaMockSync } from './kafka-mock.ts';
import { KafkaMockControl } from './kafka-mock-control.ts';
import { withLock, withLockSync } from './lock.ts';
import { infraDir, infraEnvPath, kafkaMockBin, pgBinDir } from './paths.ts';
import { isPortFree } from './ports.ts';
import { pgNodeAlive, pgUrl, query, stopPgNode } from './postgres-node.ts';
import {
  createPostgresPair,
  type PostgresPairRecord,
  stopPostgresPair,
  stopPostgresPairSync,
} from './postgres-pair.ts';
import { isAlive, type ProcessRef, refOf, sleep, sweep } from './processes.ts';
import {
  addr,
  clusterProblems,
  createRedisCluster,
  type RedisClusterRecord,
  stopRedisCluster,
  stopRedisClusterSync,
} from './redis-cluster.ts';

/**
 * The shared instance every test suite uses: fixed ports in 20000-20999, away from the standard
 * ones, below the kernel's ephemeral range (so no client connection can be holding one) and
 * below the private instances' range. State in .souk/infra (or SOUK_INFRA_DIR), connection
 * settings in .souk/infra.env.
 */
function envPort(name: string, fallback: number): number {
  const v = process.env[name];
  return v ? Number(v) : fallback;
}

export function sharedPorts() {
  const pg = envPort('SOUK_INFRA_PG_PORT', 20432);
  const redis = envPort('SOUK_INFRA_REDIS_PORT', 20379);
  const redisBus = envPort('SOUK_INFRA_REDIS_BUS_PORT', 20479);
  return {
    pgPrimary: pg,
    pgReplica: pg + 1,
    redis: [0, 1, 2, 3, 4, 5].map((i) => redis + i),
    redisBus: [0, 1, 2, 3, 4, 5].map((i) => redisBus + i),
    kafkaControl: envPort('SOUK_INFRA_KAFKA_CONTROL_PORT', 20092),
  };
}

/** Who brought the instance up: `cli` stays until `down`; `suite` goes when its last user leaves. */
export type StartedBy = 'cli' | 'suite';

export interface SharedState {
  tag: string;
  startedBy: StartedBy;
  startedAt: string;
  pg?: PostgresPairRecord;
  redis?: RedisClusterRecord;
  kafka?: KafkaMockRecord;
}

const dir = () => infraDir();
const stateFile = () => path.join(dir(), 'state.json');
const lockFile = () => path.join(dir(), 'lock');
const leaseDir = () => path.join(dir(), 'leases');

export function readState(): SharedState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile(), 'utf8')) as SharedState;
  } catch {
    return undefined;
  }
}

function writeState(s: SharedState): void {
  const tmp = `${stateFile()}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2));
  fs.renameSync(tmp, stateFile());
}

export function envOf(s: SharedState): InfraEnv | undefined {
  if (!s.pg || !s.redis || !s.kafka) return undefined;
  return {
    SOUK_PG_PRIMARY_URL: pgUrl(s.pg.primary.port),
    SOUK_PG_REPLICA_URL: pgUrl(s.pg.replica.port),
    SOUK_REDIS_NODES: s.redis.nodes.map((n) => addr(n.port)).join(','),
    SOUK_KAFKA_BROKERS: s.kafka.bootstrap,
    SOUK_KAFKA_CONTROL: s.kafka.control,
  };
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function pgProblems(pg: PostgresPairRecord | undefined): Promise<string[]> {
  if (!pg) return ['postgres: not started'];
  const problems: string[] = [];
  for (const [name, node, recovery] of [
    ['primary', pg.primary, false],
    ['replica', pg.replica, true],
  ] as const) {
    if (!pgNodeAlive(node)) {
      problems.push(`postgres ${name}: not running`);
      continue;
    }
    try {
      const rows = await query<{ r: boolean }>(pgUrl(node.port), 'SELECT pg_is_in_recovery() AS r');
      if (rows[0]?.r !== recovery)
        problems.push(`postgres ${name}: ${recovery ? 'not a replica' : 'in recovery'}`);
    } catch (e) {
      problems.push(`postgres ${name}: ${errText(e)}`);
    }
  }
  if (problems.length === 0) {
    const rows = await query(
      pgUrl(pg.primary.port),
      "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'",
    );
    if (rows.length === 0) problems.push('postgres replica: not streaming');
  }
  return problems;
}

async function redisProblems(redis: RedisClusterRecord | undefined, thorough: boolean): Promise<string[]> {
  if (!redis) return ['redis: not started'];
  const dead = redis.nodes.filter((n) => !isAlive(n.proc)).map((n) => `redis ${addr(n.port)}: not running`);
  if (dead.length) return dead;
  return (await clusterProblems(redis, !thorough)).map((p) => `redis ${p}`);
}

async function kafkaProblems(kafka: KafkaMockRecord | undefined): Promise<string[]> {
  if (!kafka) return ['kafka mock: not started'];
  if (!isAlive(kafka.proc)) return ['kafka mock: not running'];
  const control = new KafkaMockControl(kafka.control);
  try {
    await control.ping();
    return [];
  } catch (e) {
    return [`kafka mock: ${errText(e)}`];
  } finally {
    control.close();
  }
}

/** Everything that is wrong with the instance; empty when every part is usable. */
export async function problemsOf(s: SharedState, thorough = false): Promise<string[]> {
  const all = await Promise.all([pgProblems(s.pg), redisProblems(s.redis, thorough), kafkaProblems(s.kafka)]);
  return all.flat();
}

/** Problems that persist for a while: a busy machine can make one probe time out. */
async function lastingProblems(s: SharedState): Promise<string[]> {
  let problems = await problemsOf(s);
  for (let i = 0; i < 3 && problems.length > 0; i++) {
    await sleep(500);
    problems = await problemsOf(s);
  }
  return problems;
}

async function stopComponents(s: SharedState): Promise<void> {
  await Promise.all([
    s.pg ? stopPostgresPair(s.pg) : undefined,
    s.redis ? stopRedisCluster(s.redis) : undefined,
    s.kafka ? stopKafkaMock(s.kafka) : undefined,
  ]);
}

function stopComponentsSync(s: SharedState): void {
  if (s.pg) stopPostgresPairSync(s.pg);
  if (s.redis) stopRedisClusterSync(s.redis);
  if (s.kafka) stopKafkaMockSync(s.kafka);
}

/** Stops what runs in our directories even without a state file (it was deleted, or a start crashed). */
async function stopStrays(): Promise<void> {
  for (const node of ['primary', 'replica']) {
    await stopPgNode({ dataDir: path.join(dir(), 'pg', node), port: 0, clusterName: '' });
  }
  for (const sub of ['pg', 'redis', 'kafka']) await sweep(path.join(dir(), sub));
}

function wipe(): void {
  for (const entry of ['pg', 'redis', 'kafka', 'state.json']) {
    fs.rmSync(path.join(dir(), entry), { recursive: true, force: true });
  }
  fs.rmSync(infraEnvPath(), { force: true });
}

/** The programs `up` needs, so a fresh machine gets one clear message instead of a spawn error. */
function missingPrograms(): string[] {
  const onPath = (cmd: string) =>
    (process.env['PATH'] ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
  return [
    ...[path.join(pgBinDir, 'postgres'), path.join(pgBinDir, 'pg_basebackup'), kafkaMockBin].filter(
      (f) => !fs.existsSync(f),
    ),
    ...[
      'redis-server',
      'redis-cli',
      'setpriv',
      'ipcrm',
      ...(process.getuid?.() === 0 ? ['runuser'] : []),
    ].filter((c) => !onPath(c)),
  ];
}

async function startFresh(startedBy: StartedBy): Promise<SharedState> {
  const missing = missingPrograms();
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run scripts/setup`);
  const ports = sharedPorts();
  const wanted = [ports.pgPrimary, ports.pgReplica, ...ports.redis, ...ports.redisBus, ports.kafkaControl];
  // A port overridden into the kernel's ephemeral range can be held for a moment by a client's
  // short-lived connection: give it a few seconds before calling it taken.
  let busy: number[] = wanted;
  for (let i = 0; i < 20 && busy.length > 0; i++) {
    if (i > 0) await sleep(250);
    const still: number[] = [];
    for (const p of busy) if (!(await isPortFree(p))) still.push(p);
    busy = still;
  }
  if (busy.length) {
    throw new Error(
      `ports ${busy.join(', ')} are in use by something else (see \`ss -ltnp\`); stop it or set SOUK_INFRA_*_PORT`,
    );
  }
  const s: SharedState = {
    tag: `souk-${randomBytes(3).toString('hex')}`,
    startedBy,
    startedAt: new Date().toISOString(),
  };
  writeState(s);
  const started = await Promise.allSettled([
    createPostgresPair({
      dir: dir(),
      primaryPort: ports.pgPrimary,
      replicaPort: ports.pgReplica,
      tag: s.tag,
    }).then((pg) => {
      s.pg = pg;
      writeState(s);
    }),
    createRedisCluster(dir(), { masters: 3, replicasPerMaster: 1 }, ports.redis, ports.redisBus).then(
      (redis) => {
        s.redis = redis;
        writeState(s);
      },
    ),
  ]);
  const failures = started.flatMap((r) => (r.status === 'rejected' ? [errText(r.reason)] : []));
  if (failures.length === 0) {
    // Last: its brokers take kernel-chosen ports, which must not take ours while they are not bound yet.
    try {
      s.kafka = await startKafkaMockIn(path.join(dir(), 'kafka'), {
        brokers: 3,
        controlPort: ports.kafkaControl,
        dieWithParent: false,
      });
      writeState(s);
    } catch (e) {
      failures.push(errText(e));
    }
  }
  if (failures.length) {
    await stopComponents(s);
    wipe();
    throw new Error(`infra up failed: ${failures.join('; ')}`);
  }
  writeEnvFile(infraEnvPath(), envOf(s)!);
  return s;
}

export interface UpResult {
  started: boolean;
  env: InfraEnv;
}

async function upLocked(startedBy: StartedBy): Promise<UpResult> {
  const current = readState();
  if (current) {
    const env = envOf(current);
    if (env && (await lastingProblems(current)).length === 0) {
      // Somebody may have removed infra.env while the servers kept running.
      if (!parseEnvFile(infraEnvPath())) writeEnvFile(infraEnvPath(), env);
      if (startedBy === 'cli' && current.startedBy !== 'cli') writeState({ ...current, startedBy: 'cli' });
      return { started: false, env };
    }
    await stopComponents(current);
    await stopStrays();
    wipe();
  }
  const s = await startFresh(startedBy);
  return { started: true, env: envOf(s)! };
}

/** Starts the shared instance, or reuses it when it is already up and healthy. */
export async function up(startedBy: StartedBy = 'cli'): Promise<UpResult> {
  fs.mkdirSync(dir(), { recursive: true });
  return withLock(lockFile(), () => upLocked(startedBy));
}

/** Stops every part and removes all state; safe to call when nothing runs. */
export async function down(): Promise<void> {
  fs.mkdirSync(dir(), { recursive: true });
  await withLock(lockFile(), async () => {
    const s = readState();
    if (s) await stopComponents(s);
    await stopStrays();
    wipe();
    fs.rmSync(leaseDir(), { recursive: true, force: true });
  });
}

export async function reset(): Promise<UpResult> {
  await down();
  return up('cli');
}

export interface ComponentStatus {
  component: string;
  healthy: boolean;
  detail: string;
}

export async function status(): Promise<ComponentStatus[]> {
  const s = readState();
  if (!s) return [{ component: 'infra', healthy: false, detail: `not running (no state in ${dir()})` }];
  const out: ComponentStatus[] = [];
  const pg = await pgProblems(s.pg);
  let lag = '';
  if (s.pg && pg.length === 0) {
    const rows = await query<{ lag: string | null }>(
      pgUrl(s.pg.primary.port),
      "SELECT coalesce(max(replay_lag)::text, '0') AS lag FROM pg_stat_replication",
    );
    lag = `, replay lag ${rows[0]?.lag}`;
  }
  out.push({
    component: 'postgres',
    healthy: pg.length === 0,
    detail: s.pg
      ? `primary 127.0.0.1:${s.pg.primary.port} (pid ${s.pg.primary.postmaster?.pid}), replica 127.0.0.1:${s.pg.replica.port} (pid ${s.pg.replica.postmaster?.pid}) streaming${lag}${pg.length ? ` | ${pg.join('; ')}` : ''}`
      : 'not started',
  });
  const redis = await redisProblems(s.redis, true);
  out.push({
    component: 'redis',
    healthy: redis.length === 0,
    detail: s.redis
      ? `${s.redis.nodes.map((n) => n.port).join(',')} (3 masters + 3 replicas)${redis.length ? ` | ${redis.join('; ')}` : ', cluster_state:ok, check ok'}`
      : 'not started',
  });
  const kafka = await kafkaProblems(s.kafka);
  out.push({
    component: 'kafka-mock',
    healthy: kafka.length === 0,
    detail: s.kafka
      ? `brokers ${s.kafka.bootstrap}, control ${s.kafka.control} (pid ${s.kafka.proc.pid})${kafka.length ? ` | ${kafka.join('; ')}` : ''}`
      : 'not started',
  });
  out.push({
    component: 'owner',
    healthy: true,
    detail: `started by ${s.startedBy} at ${s.startedAt}, ${liveLeases().length} suite(s) using it`,
  });
  return out;
}

// Leases: every suite using the instance holds one, so an instance a suite started is stopped
// only when the last suite using it has finished.

export interface Lease {
  file: string;
}

function liveLeases(): string[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(leaseDir());
  } catch {
    return [];
  }
  return files.filter((f) => {
    const full = path.join(leaseDir(), f);
    try {
      if (isAlive(JSON.parse(fs.readFileSync(full, 'utf8')) as ProcessRef)) return true;
    } catch {
      // unreadable: treat as stale
    }
    fs.rmSync(full, { force: true });
    return false;
  });
}

/** Brings the instance up if needed and registers this process as one of its users. */
export async function acquire(): Promise<UpResult & { lease: Lease }> {
  fs.mkdirSync(leaseDir(), { recursive: true });
  return withLock(lockFile(), async () => {
    const result = await upLocked('suite');
    const file = path.join(leaseDir(), `${process.pid}-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(leaseDir(), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(refOf(process.pid)));
    return { ...result, lease: { file } };
  });
}

/** Gives the lease back; stops a suite-started instance when nobody else uses it. */
export async function release(lease: Lease): Promise<boolean> {
  return withLock(lockFile(), async () => {
    fs.rmSync(lease.file, { force: true });
    const s = readState();
    if (s === undefined || s.startedBy !== 'suite' || liveLeases().length > 0) return false;
    await stopComponents(s);
    wipe();
    return true;
  });
}

/** The same, for process exit handlers. */
export function releaseSync(lease: Lease): boolean {
  return withLockSync(lockFile(), () => {
    fs.rmSync(lease.file, { force: true });
    const s = readState();
    if (s === undefined || s.startedBy !== 'suite' || liveLeases().length > 0) return false;
    stopComponentsSync(s);
    wipe();
    return true;
  });
}
