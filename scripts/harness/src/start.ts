/**
 * `npm start`: brings up the local platform, prints where everything listens, and on Ctrl-C
 * stops what it started. Whatever was already running (another `npm start`, `npm run infra -- up`)
 * is reused and left running.
 */

import { infraEnvPath } from './infra/paths.ts';
import type { InfraHandle } from './infra.ts';
import { ensureInfra } from './infra.ts';

// Registered before anything starts, so Ctrl-C during start-up also stops what was started.
let infra: InfraHandle | undefined;
let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping…\n`);
  await infra?.release();
  process.stdout.write(infra?.started === false ? 'left running what was already running.\n' : 'stopped.\n');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

const t0 = performance.now();
process.stdout.write('starting PostgreSQL primary + replica, Redis Cluster, Kafka mock cluster…\n');
infra = await ensureInfra();
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
process.stdout.write(`infrastructure ${infra.started ? 'started' : 'reused'} in ${seconds}s\n\n`);

const rows: [string, string][] = [
  ['PostgreSQL primary', infra.pgPrimaryUrl],
  ['PostgreSQL replica', infra.pgReplicaUrl],
  ['Redis Cluster', infra.redisNodes.map((n) => `${n.host}:${n.port}`).join(', ')],
  ['Kafka (mock, 3 brokers)', infra.kafkaBrokers.join(', ')],
  ['Kafka fault controls', infra.kafkaControl],
  ['connection settings', infraEnvPath()],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
process.stdout.write('\nready. Ctrl-C stops what this command started.\n');

setInterval(() => {}, 1 << 30);
