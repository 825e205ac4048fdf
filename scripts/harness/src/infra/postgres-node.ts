import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { pgBinDir } from './paths.ts';
import {
  isAlive,
  type ProcessRef,
  pidsWithCmdlinePrefix,
  run,
  signal,
  sleep,
  spawnDaemon,
  startTimeOf,
  terminate,
  terminateSync,
  waitFor,
} from './processes.ts';
import { removeShm } from './shm.ts';

/** What is needed to find and stop one PostgreSQL server, also from another process. */
export interface PgNodeRecord {
  dataDir: string;
  port: number;
  /** The cluster_name, which prefixes every one of its processes' titles. */
  clusterName: string;
  postmaster?: ProcessRef;
  shmId?: number;
}

const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL tool as the postgres user (the server refuses to run as root). */
export function asPostgres(tool: string, args: string[]): ReturnType<typeof run> {
  const bin = path.join(pgBinDir, tool);
  return isRoot ? run('runuser', ['-u', 'postgres', '--', bin, ...args]) : run(bin, args);
}

/** Makes `dir` (and the path to it) usable by the postgres user. */
export function prepareDirForPostgres(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  if (!isRoot) return;
  const pw = fs.readFileSync('/etc/passwd', 'utf8').match(/^postgres:[^:]*:(\d+):(\d+):/m);
  if (!pw) throw new Error('there is no postgres user: run scripts/setup');
  fs.chownSync(dir, Number(pw[1]), Number(pw[2]));
  // mkdtemp makes 0700 directories; postgres must be able to walk through to its own.
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const mode = fs.statSync(d).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(d, mode | 0o711);
  }
}

export function pgUrl(port: number, database = 'postgres'): string {
  return `postgres://postgres@127.0.0.1:${port}/${database}`;
}

/** Reads pid and shared-memory id from postmaster.pid, which outlives a SIGKILLed postmaster. */
function readPostmasterPid(dataDir: string): { pid: number; shmId?: number } | undefined {
  try {
    const lines = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const shm = lines[6]?.trim().split(/\s+/)[1];
    return { pid, ...(shm ? { shmId: Number(shm) } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Starts the server and waits until it accepts connections. A server that must die with us is
 * started directly (pg_ctl would leave it without a parent to watch); the shared one by pg_ctl.
 */
function readPostmasterStatus(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[7]?.trim();
  } catch {
    return undefined;
  }
}

export async function startPgNode(rec: PgNodeRecord, dieWithParent = false): Promise<PgNodeRecord> {
  const log = path.join(path.dirname(rec.dataDir), `${path.basename(rec.dataDir)}.log`);
  if (dieWithParent) {
    // SIGQUIT is an immediate shutdown, which still removes the shared memory.
    const proc = spawnDaemon(path.join(pgBinDir, 'postgres'), ['-D', rec.dataDir], log, {
      cwd: rec.dataDir,
      user: 'postgres',
      dieWithParent: 'SIGQUIT',
    });
    await waitFor(
      `postgres in ${rec.dataDir}`,
      () => {
        if (!isAlive(proc))
          throw new Error(`postgres exited: ${fs.readFileSync(log, 'utf8').trim().slice(-400)}`);
        const status = readPostmasterStatus(rec.dataDir);
        return status === 'ready' || status === 'standby';
      },
      60_000,
      10,
    );
  } else {
    await asPostgres('pg_ctl', ['start', '-w', '-t', '60', '-D', rec.dataDir, '-l', log]);
  }
  const pm = readPostmasterPid(rec.dataDir);
  const startTime = pm && startTimeOf(pm.pid);
  if (!pm || !startTime) throw new Error(`postgres in ${rec.dataDir} did not stay up, see ${log}`);
  return { ...rec, postmaster: { pid: pm.pid, startTime }, ...(pm.shmId ? { shmId: pm.shmId } : {}) };
}

function targets(rec: PgNodeRecord): { postmaster?: ProcessRef; shmId?: number } {
  const pm = readPostmasterPid(rec.dataDir);
  if (rec.postmaster) return { postmaster: rec.postmaster, ...(rec.shmId ? { shmId: rec.shmId } : {}) };
  if (!pm) return {};
  const startTime = startTimeOf(pm.pid);
  // Without a record of our own, only trust postmaster.pid if that pid really runs this data dir.
  const cmd = startTime ? fs.readFileSync(`/proc/${pm.pid}/cmdline`, 'utf8') : '';
  return {
    ...(startTime && cmd.includes(rec.dataDir) ? { postmaster: { pid: pm.pid, startTime } } : {}),
    ...(pm.shmId ? { shmId: pm.shmId } : {}),
  };
}

function orphans(rec: PgNodeRecord): ProcessRef[] {
  if (!rec.clusterName) return [];
  return pidsWithCmdlinePrefix(`postgres: ${rec.clusterName}: `).flatMap((pid) => {
    const startTime = startTimeOf(pid);
    return startTime ? [{ pid, startTime }] : [];
  });
}

/**
 * Stops a server, immediate mode (its data is thrown away afterwards), then removes whatever a
 * SIGKILLed postmaster leaves behind: children that have not noticed yet and its shared memory.
 */
export async function stopPgNode(rec: PgNodeRecord): Promise<void> {
  const t = targets(rec);
  if (t.postmaster) await terminate([t.postmaster], 'SIGQUIT', 5000);
  await terminate(orphans(rec), 'SIGKILL');
  if (t.shmId !== undefined && t.postmaster) removeShm(t.shmId, t.postmaster.pid);
}

export function stopPgNodeSync(rec: PgNodeRecord): void {
  const t = targets(rec);
  if (t.postmaster) terminateSync([t.postmaster], 'SIGQUIT', 2000);
  terminateSync(orphans(rec), 'SIGKILL');
  if (t.shmId !== undefined && t.postmaster) removeShm(t.shmId, t.postmaster.pid);
}

/** Crash: SIGKILL the postmaster only, as a machine failure would leave it. */
export async function killPgNode(rec: PgNodeRecord): Promise<void> {
  const t = targets(rec);
  if (!t.postmaster) return;
  signal(t.postmaster, 'SIGKILL');
  while (isAlive(t.postmaster)) await sleep(5);
}

export function pgNodeAlive(rec: PgNodeRecord): boolean {
  const t = targets(rec);
  return t.postmaster !== undefined && isAlive(t.postmaster);
}

export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
