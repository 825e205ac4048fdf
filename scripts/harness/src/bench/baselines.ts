/**
 * The named baselines other suites compare against. Each suite measures the baseline it needs
 * again in its own run, because on a shared, noisy machine only ratios from one run mean anything.
 */
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import Router from '@koa/router';
import { Cluster } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import Koa from 'koa';
import pg from 'pg';
import { httpThroughput } from './load.ts';
import { type LatencySummary, summarize } from './stats.ts';

const exec = promisify(execFile);

/** Single-row autocommit INSERTs from `clients` connections: the rate a durable commit costs. */
export async function pgCommitCeiling(url: string, opts: { clients?: number; seconds?: number } = {}) {
  const clients = opts.clients ?? 8;
  const seconds = opts.seconds ?? 4;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const table = `bench_commit_${process.pid}`;
  await admin.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text NOT NULL)`);
  try {
    let commits = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          while (performance.now() < deadline) {
            await c.query(`INSERT INTO ${table} (payload) VALUES ($1)`, ['x'.repeat(64)]);
            commits++;
          }
        } finally {
          await c.end();
        }
      }),
    );
    return commits / seconds;
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  }
}

/** pgbench TPC-B-like TPS, in a scratch database that is dropped afterwards. */
export async function pgbenchTps(url: string, opts: { clients?: number; seconds?: number } = {}) {
  const bin = '/usr/lib/postgresql/15/bin/pgbench';
  const db = `bench_pgbench_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const target = new URL(url);
  target.pathname = `/${db}`;
  try {
    await exec(bin, ['-i', '-q', '-s', '1', target.toString()]);
    const clients = String(opts.clients ?? 8);
    const { stdout } = await exec(bin, [
      '-c',
      clients,
      '-j',
      '2',
      '-T',
      String(opts.seconds ?? 5),
      target.toString(),
    ]);
    const m = /tps = ([\d.]+)/.exec(stdout);
    if (!m) throw new Error(`pgbench printed no tps: ${stdout}`);
    return Number(m[1]);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}

/** Awaited single GETs and SETs through an ioredis Cluster client, `concurrency` at a time. */
export async function redisClusterOps(
  nodes: { host: string; port: number }[],
  opts: { seconds?: number; concurrency?: number; keyPrefix?: string } = {},
): Promise<{ setPerSecond: number; getPerSecond: number }> {
  const cluster = new Cluster(nodes, { scaleReads: 'master' });
  const seconds = opts.seconds ?? 3;
  const concurrency = opts.concurrency ?? 32;
  const prefix = opts.keyPrefix ?? `bench:${process.pid}:`;
  const value = 'v'.repeat(1024);
  const phase = async (op: (key: string) => Promise<unknown>) => {
    let done = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        for (let i = 0; performance.now() < deadline; i++) {
          await op(`${prefix}${(w * 100_003 + i) % 10_000}`);
          done++;
        }
      }),
    );
    return done / seconds;
  };
  try {
    const setPerSecond = await phase((k) => cluster.set(k, value, 'EX', 60));
    const getPerSecond = await phase((k) => cluster.get(k));
    return { setPerSecond, getPerSecond };
  } finally {
    cluster.disconnect();
  }
}

/** A bare Koa 3 + @koa/router hello, served in this process and loaded from another. */
export async function koaHelloRps(opts: { seconds?: number; connections?: number } = {}): Promise<number> {
  const app = new Koa();
  const router = new Router();
  router.get('/hello', (ctx) => {
    ctx.body = { hello: 'world' };
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const { port } = server.address() as AddressInfo;
    const r = await httpThroughput(`http://127.0.0.1:${port}/hello`, {
      seconds: opts.seconds ?? 5,
      connections: opts.connections ?? 50,
    });
    return r.requestsPerSecond;
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/**
 * Produce→consume latency through a joined consumer group, at a steady rate. The mock broker
 * tends to hold a fetch until `maxWaitTimeInMs`, so the tail follows that setting.
 */
export async function kafkaLatency(
  brokers: string[],
  opts: { topic: string; messages?: number; rate?: number; maxWaitTimeInMs?: number },
): Promise<LatencySummary> {
  const kafka = new Kafka({ clientId: 'souk-bench', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  const consumer = kafka.consumer({
    groupId: `${opts.topic}.bench`,
    sessionTimeout: 6000,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 100,
  });
  const total = opts.messages ?? 1000;
  const rate = opts.rate ?? 500;
  const latencies: number[] = [];
  await producer.connect();
  await producer.send({ topic: opts.topic, messages: [{ value: 'warm-up' }] });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: false });
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const sent = Number(message.value?.toString());
      if (!Number.isFinite(sent)) return;
      latencies.push(Date.now() - sent);
      if (latencies.length >= total) resolveDone();
    },
  });
  try {
    const joinDeadline = Date.now() + 30_000;
    while (!joined && Date.now() < joinDeadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      await producer.send({
        topic: opts.topic,
        acks: -1,
        messages: [{ key: String(i), value: String(Date.now()) }],
      });
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
    return summarize(latencies);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}
