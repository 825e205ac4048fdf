import fs from 'node:fs';
import path from 'node:path';
import {
  isAlive,
  type ProcessRef,
  spawnDaemon,
  sweep,
  sweepSync,
  terminate,
  terminateSync,
  waitFor,
} from './processes.ts';
import { redisCall } from './resp.ts';

/** One cluster-enabled redis-server, not joined to anything yet. */
export interface RedisNodeRecord {
  port: number;
  busPort: number;
  dir: string;
  proc: ProcessRef;
}

export async function startRedisNode(
  port: number,
  busPort: number,
  dir: string,
  dieWithParent = false,
): Promise<RedisNodeRecord> {
  fs.mkdirSync(dir, { recursive: true });
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no'],
    ...['--cluster-enabled', 'yes', '--cluster-port', String(busPort)],
    ...['--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-node-timeout', '1000'],
    ...['--dir', dir, '--save', '', '--appendonly', 'no'],
    ...['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'],
    ...['--daemonize', 'no', '--loglevel', 'warning', '--shutdown-on-sigterm', 'now'],
  ];
  const log = path.join(dir, 'redis.log');
  const proc = spawnDaemon('redis-server', args, log, {
    cwd: dir,
    ...(dieWithParent ? { dieWithParent: 'SIGTERM' as const } : {}),
  });
  const rec = { port, busPort, dir, proc };
  try {
    await waitFor(
      `redis-server on port ${port}`,
      async () => {
        if (!isAlive(proc))
          throw new Error(`redis-server exited: ${fs.readFileSync(log, 'utf8').trim().slice(-300)}`);
        return (await redisCall(port, ['PING'])) === 'PONG';
      },
      10_000,
      20,
    );
  } catch (e) {
    await stopRedisNode(rec);
    throw e;
  }
  return rec;
}

export async function stopRedisNode(rec: RedisNodeRecord): Promise<void> {
  await terminate([rec.proc], 'SIGTERM', 3000);
  await sweep(rec.dir);
  fs.rmSync(rec.dir, { recursive: true, force: true });
}

export function stopRedisNodeSync(rec: RedisNodeRecord): void {
  terminateSync([rec.proc], 'SIGTERM', 1000);
  sweepSync(rec.dir);
  fs.rmSync(rec.dir, { recursive: true, force: true });
}
