import fs from 'node:fs';
import path from 'node:path';
import { withLock } from './lock.ts';
import { pgBinDir, repoRoot } from './paths.ts';
import {
  asPostgres,
  killPgNode,
  type PgNodeRecord,
  pgUrl,
  prepareDirForPostgres,
  query,
  startPgNode,
  stopPgNode,
  stopPgNodeSync,
} from './postgres-node.ts';
import { run, sweep, sweepSync, waitFor } from './processes.ts';

/** A PostgreSQL 15 primary with one streaming replica, as the services run in production. */
export interface PostgresPairRecord {
  dir: string;
  primary: PgNodeRecord;
  replica: PgNodeRecord;
}

export interface PostgresPairOptions {
  dir: string;
  primaryPort: number;
  replicaPort: number;
  /** Unique per instance: names the processes so their orphans can be found. */
  tag: string;
  maxConnections?: number;
  /** Private instances: the servers die with this process, even of SIGKILL. */
  dieWithParent?: boolean;
  sharedBuffers?: string;
}

function settings(o: PostgresPairOptions): string {
  return [
    '',
    "listen_addresses = '127.0.0.1'",
    `port = ${o.primaryPort}`,
    "unix_socket_directories = ''",
    `cluster_name = '${o.tag}-primary'`,
    `max_connections = ${o.maxConnections ?? 200}`,
    `shared_buffers = '${o.sharedBuffers ?? '64MB'}'`,
    'wal_level = replica',
    'max_wal_senders = 10',
    "wal_keep_size = '256MB'",
    'hot_standby = on',
    "wal_retrieve_retry_interval = '100ms'",
    // Dynamic shared memory as files in the data dir, not /dev/shm/PostgreSQL.*: a SIGKILLed
    // postmaster's segments then go with the directory instead of piling up.
    'dynamic_shared_memory_type = mmap',
    'fsync = on',
    "log_min_messages = 'warning'",
    '',
  ].join('\n');
}

/**
 * A freshly initdb'ed data directory, made once and copied for every new primary: initdb costs
 * seconds of CPU, a copy a few milliseconds.
 */
async function pgTemplate(): Promise<string> {
  const cache = path.join(repoRoot, '.souk', 'cache');
  const template = path.join(cache, `pg${path.basename(path.dirname(pgBinDir))}-template`);
  if (fs.existsSync(path.join(template, 'PG_VERSION'))) return template;
  prepareDirForPostgres(cache);
  await withLock(path.join(cache, 'pg-template.lock'), async () => {
    if (fs.existsSync(path.join(template, 'PG_VERSION'))) return;
    const tmp = `${template}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    // No fsync of the template: it is rebuilt whenever it is incomplete, and the servers keep fsync on.
    await asPostgres('initdb', [
      '-N',
      '-D',
      tmp,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    fs.renameSync(tmp, template);
  });
  return template;
}

/** Creates, starts and verifies the pair. Fails (having cleaned up) when it cannot. */
export async function createPostgresPair(o: PostgresPairOptions): Promise<PostgresPairRecord> {
  const base = path.join(o.dir, 'pg');
  prepareDirForPostgres(base);
  const rec: PostgresPairRecord = {
    dir: base,
    primary: { dataDir: path.join(base, 'primary'), port: o.primaryPort, clusterName: `${o.tag}-primary` },
    replica: { dataDir: path.join(base, 'replica'), port: o.replicaPort, clusterName: `${o.tag}-replica` },
  };
  try {
    await run('cp', ['-a', await pgTemplate(), rec.primary.dataDir]);
    fs.appendFileSync(path.join(rec.primary.dataDir, 'postgresql.conf'), settings(o));
    rec.primary = await startPgNode(rec.primary, o.dieWithParent);

    await asPostgres('pg_basebackup', [
      ...['-D', rec.replica.dataDir, '-h', '127.0.0.1', '-p', String(o.primaryPort), '-U', 'postgres'],
      ...['-R', '-X', 'stream', '-c', 'fast'],
    ]);
    // The base backup copied the primary's settings: the replica needs its own port and name.
    fs.appendFileSync(
      path.join(rec.replica.dataDir, 'postgresql.conf'),
      `\nport = ${o.replicaPort}\ncluster_name = '${o.tag}-replica'\n`,
    );
    rec.replica = await startPgNode(rec.replica, o.dieWithParent);
    await verifyReplication(rec);
    return rec;
  } catch (e) {
    await stopPostgresPair(rec);
    throw e;
  }
}

/** The replica streams, and a fresh write on the primary becomes visible on it. */
export async function verifyReplication(rec: PostgresPairRecord, timeoutMs = 15_000): Promise<void> {
  const primary = pgUrl(rec.primary.port);
  const replica = pgUrl(rec.replica.port);
  await waitFor(
    'the replica to stream',
    async () => {
      const rows = await query(primary, "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'");
      return rows.length > 0;
    },
    timeoutMs,
  );
  const token = `${Date.now()}-${Math.random()}`;
  await query(primary, 'CREATE TABLE IF NOT EXISTS souk_infra_probe (token text NOT NULL)');
  await query(primary, 'TRUNCATE souk_infra_probe');
  await query(primary, 'INSERT INTO souk_infra_probe VALUES ($1)', [token]);
  await waitFor(
    'a write to reach the replica',
    async () => {
      const rows = await query(replica, 'SELECT 1 FROM souk_infra_probe WHERE token = $1', [token]);
      return rows.length > 0;
    },
    timeoutMs,
    10,
  );
}

/** Waits until the replica has replayed everything committed on the primary so far. */
export async function waitForReplica(
  primaryUrl: string,
  replicaUrl: string,
  timeoutMs = 15_000,
): Promise<void> {
  const [{ lsn }] = (await query<{ lsn: string }>(
    primaryUrl,
    'SELECT pg_current_wal_lsn()::text AS lsn',
  )) as [{ lsn: string }];
  await waitFor(
    'the replica to catch up',
    async () => {
      const rows = await query<{ ok: boolean }>(
        replicaUrl,
        'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok',
        [lsn],
      );
      return rows[0]?.ok === true;
    },
    timeoutMs,
    5,
  );
}

export async function stopPostgresPair(rec: PostgresPairRecord): Promise<void> {
  await Promise.all([stopPgNode(rec.replica), stopPgNode(rec.primary)]);
  await sweep(rec.dir);
  fs.rmSync(rec.dir, { recursive: true, force: true });
}

export function stopPostgresPairSync(rec: PostgresPairRecord): void {
  stopPgNodeSync(rec.replica);
  stopPgNodeSync(rec.primary);
  sweepSync(rec.dir);
  fs.rmSync(rec.dir, { recursive: true, force: true });
}

export async function killPrimary(rec: PostgresPairRecord): Promise<void> {
  await killPgNode(rec.primary);
}

/** Promotes the replica and waits until it accepts writes. */
export async function promoteReplica(rec: PostgresPairRecord): Promise<void> {
  const url = pgUrl(rec.replica.port);
  await query(url, 'SELECT pg_promote(true, 60)');
  await waitFor('the promoted replica to accept writes', async () => {
    const rows = await query<{ r: boolean }>(url, 'SELECT pg_is_in_recovery() AS r');
    return rows[0]?.r === false;
  });
}
