/**
 * What `npm start` runs for each dependency: the real server where it can be had, an embedded
 * stand-in where it cannot (PGlite for PostgreSQL; for Redis, none: the services switch their cache
 * off and keep limits in process). `SOUK_EMBEDDED` forces the stand-ins: `1` (or `all`) for both,
 * or a list of `postgres`, `redis`.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface InfraChoice {
  postgres: 'server' | 'embedded';
  redis: 'server' | 'none';
  /** Why a stand-in was chosen, one line each, to print as warnings. */
  reasons: string[];
}

export interface InfraProbe {
  /** Directory of the PostgreSQL server binaries. */
  pgBinDir: string;
  /** Whether `command` is on PATH. */
  onPath(command: string): boolean;
  exists(file: string): boolean;
}

export function systemProbe(pgBinDir: string, env: NodeJS.ProcessEnv = process.env): InfraProbe {
  const dirs = (env['PATH'] ?? '').split(':').filter(Boolean);
  return {
    pgBinDir,
    onPath: (command) => dirs.some((d) => fs.existsSync(path.join(d, command))),
    exists: (file) => fs.existsSync(file),
  };
}

const DEPENDENCIES = ['postgres', 'redis'] as const;

/** The dependencies SOUK_EMBEDDED asks to replace; throws on a value it does not know. */
export function forcedEmbedded(value: string | undefined): Set<(typeof DEPENDENCIES)[number]> {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false') return new Set();
  if (v === '1' || v === 'true' || v === 'all') return new Set(DEPENDENCIES);
  const names = v.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(DEPENDENCIES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new Error(`SOUK_EMBEDDED=${value}: expected 1, all, or a list of ${DEPENDENCIES.join(', ')}`);
  }
  return new Set(names as (typeof DEPENDENCIES)[number][]);
}

export function chooseInfra(env: NodeJS.ProcessEnv, probe: InfraProbe): InfraChoice {
  const forced = forcedEmbedded(env['SOUK_EMBEDDED']);
  const reasons: string[] = [];

  let postgres: InfraChoice['postgres'] = 'server';
  const pgMissing = ['postgres', 'initdb', 'pg_basebackup']
    .map((b) => path.join(probe.pgBinDir, b))
    .filter((f) => !probe.exists(f));
  if (forced.has('postgres')) {
    postgres = 'embedded';
    reasons.push('PostgreSQL: embedded PGlite, as SOUK_EMBEDDED asks');
  } else if (pgMissing.length > 0) {
    postgres = 'embedded';
    reasons.push(
      `PostgreSQL: no server installed (${pgMissing.join(', ')} missing; apt-get install postgresql): embedded PGlite instead`,
    );
  }
  if (postgres === 'embedded') {
    reasons.push(
      'PostgreSQL (PGlite): one session per database, no replication (reads go to the primary), outbox relays poll',
    );
  }

  let redis: InfraChoice['redis'] = 'server';
  const redisMissing = ['redis-server', 'redis-cli'].filter((c) => !probe.onPath(c));
  if (forced.has('redis')) {
    redis = 'none';
    reasons.push('Redis: none, as SOUK_EMBEDDED asks');
  } else if (redisMissing.length > 0) {
    redis = 'none';
    reasons.push(
      `Redis: no server installed (${redisMissing.join(', ')} missing; apt-get install redis-server redis-tools)`,
    );
  }
  if (redis === 'none') {
    reasons.push(
      'Redis: services run without it: caches off (reads go to the database), rate limits and token revocations per process',
    );
  }
  return { postgres, redis, reasons };
}
