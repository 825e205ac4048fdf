import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type KafkaMock, type RedisCluster, startKafkaMock, startRedisCluster } from '@souk/harness/infra';
import { onExit } from '@souk/harness/infra/exit-cleanup';
import { freePorts, releasePorts } from '@souk/harness/infra/ports';
import { pgUrl, query } from '@souk/harness/infra/postgres-node';
import {
  createPostgresPair,
  killPrimary,
  type PostgresPairRecord,
  promoteReplica,
  stopPostgresPair,
  stopPostgresPairSync,
} from '@souk/harness/infra/postgres-pair';
import { tempBase } from '@souk/harness/infra/temp-dirs';
import pg from 'pg';
import { type Answer, call } from '../platform.ts';
import { LeaderProxy } from './leader-proxy.ts';
import { ServiceProcess } from './service-process.ts';

export const SERVICES = ['users', 'inventory', 'payments', 'orders', 'notifications'] as const;
export type ServiceName = (typeof SERVICES)[number];
export const KILLABLE = ['orders', 'inventory', 'payments'] as const satisfies readonly ServiceName[];

const TOPICS = ['users.events', 'inventory.events', 'orders.events', 'payments.events'];
export const ADMIN = { email: 'admin@chaos.test', password: 'Admin-password-for-chaos-1' };
const PASSWORD = 'Correct-horse-battery-9';

export interface ProcessPlatformOptions {
  /**
   * Synchronous replication and a proxy standing for the leader's Service, so the primary can be
   * killed and the replica promoted without losing an acknowledged commit (see `failoverPostgres`).
   */
  failover?: boolean;
  /** Postgres data on disk, where a commit costs an fsync as in production (benchmarks); tmpfs otherwise. */
  pgOnDisk?: boolean;
  /** Extra environment per service. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
}

/**
 * The whole platform as production runs it: users, inventory, payments, orders and notifications
 * each in its own process with its own database, on a private Postgres primary + streaming
 * replica, a private Redis Cluster (3 masters, 3 replicas) and a private Kafka mock (3 brokers).
 * Every piece can be killed; nothing is shared with other tests.
 */
export class ProcessPlatform {
  readonly services = new Map<ServiceName, ServiceProcess>();
  readonly logDir: string;
  pgPair!: PostgresPairRecord;
  redis!: RedisCluster;
  kafka!: KafkaMock;
  #pgDir = '';
  #proxies: LeaderProxy[] = [];
  #primaryPort = 0;
  #replicaPort = 0;
  #servicePorts: number[] = [];
  #pools = new Map<ServiceName, pg.Pool>();
  #unregister: (() => void) | undefined;
  #primaryKilled = false;

  constructor(readonly options: ProcessPlatformOptions = {}) {
    this.logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'souk-chaos-logs-'));
  }

  service(name: ServiceName): ServiceProcess {
    return this.services.get(name)!;
  }

  url(name: ServiceName): string {
    return this.service(name).url;
  }

  /** The database of a service on the current leader (through the proxy when there is one). */
  databaseUrl(name: ServiceName, replica = false): string {
    return pgUrl(replica ? this.#replicaPort : this.#primaryPort, name);
  }

  async start(): Promise<void> {
    this.#unregister = onExit(() => {
      for (const s of this.services.values()) s.killSync();
      if (this.pgPair) stopPostgresPairSync(this.pgPair);
      if (this.#pgDir) fs.rmSync(this.#pgDir, { recursive: true, force: true });
    });
    const [pair, redis, kafka] = await Promise.all([
      this.#startPostgres(),
      startRedisCluster({ masters: 3, replicasPerMaster: 1 }),
      startKafkaMock({ brokers: 3 }),
    ]);
    this.pgPair = pair;
    this.redis = redis;
    this.kafka = kafka;
    for (const topic of TOPICS) {
      await kafka.control.createTopic(topic, 4, 3);
      await kafka.control.createTopic(`${topic}.dlq`, 1, 3);
    }
    this.#primaryPort = pair.primary.port;
    this.#replicaPort = pair.replica.port;
    if (this.options.failover) {
      const admin = pgUrl(pair.primary.port);
      await query(admin, "ALTER SYSTEM SET synchronous_standby_names = '*'");
      await query(admin, 'SELECT pg_reload_conf()');
      await waitFor(async () => {
        const rows = await query(admin, "SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'");
        return rows.length > 0;
      }, 'synchronous replication');
      const primary = new LeaderProxy(pair.primary.port);
      const replica = new LeaderProxy(pair.replica.port);
      this.#primaryPort = await primary.listen();
      this.#replicaPort = await replica.listen();
      this.#proxies = [primary, replica];
    }
    for (const name of SERVICES) await query(pgUrl(pair.primary.port), `CREATE DATABASE ${name}`);

    this.#servicePorts = await freePorts(SERVICES.length);
    const urls = Object.fromEntries(
      SERVICES.map((name, i) => [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${this.#servicePorts[i]}`]),
    );
    for (const [i, name] of SERVICES.entries()) {
      const env: Record<string, string> = {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        SERVICE_NAME: name,
        DATABASE_URL: this.databaseUrl(name),
        DATABASE_REPLICA_URL: this.databaseUrl(name, true),
        REDIS_NODES: redis.nodes.join(','),
        KAFKA_BROKERS: kafka.bootstrap,
        ...urls,
        ...(name === 'users'
          ? {
              ADMIN_EMAIL: ADMIN.email,
              ADMIN_PASSWORD: ADMIN.password,
              LOGIN_LIMIT_PER_IP: '1000000',
              LOGIN_LIMIT_PER_ACCOUNT: '1000000',
            }
          : {}),
        ...this.options.env?.[name],
      };
      this.services.set(name, new ServiceProcess(name, this.#servicePorts[i]!, env, this.logDir));
    }
    // Side by side: the others fetch users' keys when the first token comes, not at start.
    await Promise.all(SERVICES.map((n) => this.service(n).start()));
  }

  async #startPostgres(): Promise<PostgresPairRecord> {
    // The harness's naming, so a run killed before its clean-up is swept by the next one.
    const base = this.options.pgOnDisk ? os.tmpdir() : tempBase();
    this.#pgDir = fs.mkdtempSync(path.join(base, `souk-pg-${process.pid}-`));
    const [primaryPort, replicaPort] = await freePorts(2);
    return createPostgresPair({
      dir: this.#pgDir,
      primaryPort: primaryPort!,
      replicaPort: replicaPort!,
      tag: `souk-chaos-${process.pid}-${primaryPort}`,
      // Five services, each with a primary and a replica pool, an outbox relay and consumers.
      maxConnections: 400,
      sharedBuffers: '128MB',
      dieWithParent: true,
    });
  }

  /** A pool on a service's database, following the leader. */
  pool(name: ServiceName): pg.Pool {
    let pool = this.#pools.get(name);
    if (!pool) {
      pool = new pg.Pool({ connectionString: this.databaseUrl(name), max: 3 });
      pool.on('error', () => {});
      this.#pools.set(name, pool);
    }
    return pool;
  }

  /** Runs `sql` on a service's database, retrying while the leader changes. */
  async sql<R extends pg.QueryResultRow>(
    name: ServiceName,
    text: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool(name).query<R>(text, values)).rows;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  // --- faults ---

  async kill(name: ServiceName): Promise<void> {
    await this.service(name).kill();
  }

  async restart(name: ServiceName): Promise<void> {
    await this.service(name).start();
  }

  /** Takes one Kafka broker down (its connections closed, new ones refused) for `ms`. */
  async brokerOutage(brokerId: number, ms: number): Promise<void> {
    await this.kafka.control.brokerDown(brokerId);
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      await this.kafka.control.brokerUp(brokerId);
    }
  }

  /** SIGKILLs one Redis master; its replica takes over (cluster-node-timeout 1 s). Returns its address. */
  async killRedisMaster(pick: (masters: string[]) => string): Promise<string> {
    const victim = pick(await this.redis.masters());
    await this.redis.killNode(Number(victim.split(':')[1]));
    await this.redis.waitHealthy(90_000);
    return victim;
  }

  /**
   * The primary's machine dies (SIGKILL), the replica is promoted, and the leader's address moves
   * to it, cutting every connection. Replication was synchronous, so no acknowledged commit is
   * lost; readers keep reading from the promoted server, now the only one.
   */
  async failoverPostgres(): Promise<void> {
    if (!this.options.failover) throw new Error('the platform was started without failover');
    await killPrimary(this.pgPair);
    this.#primaryKilled = true;
    await promoteReplica(this.pgPair);
    this.#proxies[0]!.switchTo(this.pgPair.replica.port);
  }

  get primaryKilled(): boolean {
    return this.#primaryKilled;
  }

  // --- the platform's users ---

  /** Registers and logs in, once; retried while the machine is too loaded to answer in time. */
  async register(email: string): Promise<{ userId: string; token: string }> {
    const created = await retrying(`register ${email}`, () =>
      call(this.url('users'), 'POST', '/users', {
        body: { email, password: PASSWORD, name: email.split('@')[0] },
      }),
    );
    // 409: an earlier try went through after all.
    if (created.status !== 201 && created.status !== 409)
      throw new Error(`register ${email}: ${created.status} ${JSON.stringify(created.body)}`);
    const token = await this.login(email, PASSWORD);
    const me = await retrying('GET /users/me', () => call(this.url('users'), 'GET', '/users/me', { token }));
    return { userId: me.body['id'] as string, token };
  }

  async login(email: string, password: string): Promise<string> {
    const session = await retrying(`login ${email}`, () =>
      call(this.url('users'), 'POST', '/sessions', { body: { email, password } }),
    );
    if (session.status !== 201) throw new Error(`login ${email}: ${session.status}`);
    return session.body['accessToken'] as string;
  }

  async createItem(
    token: string,
    item: { title: string; priceCents: number; quantity: number },
  ): Promise<string> {
    const res = await retrying('POST /items', () =>
      call(this.url('inventory'), 'POST', '/items', { token, body: { ...item, currency: 'EUR' } }),
    );
    if (res.status !== 201) throw new Error(`create item: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body['id'] as string;
  }

  /** Log tails of every service, for a failure message. */
  tails(lines = 15): string {
    return [...this.services.values()].map((s) => `== ${s.name}\n${s.tail(lines)}`).join('\n');
  }

  async stop(keepLogs = false): Promise<void> {
    await Promise.allSettled([...this.services.values()].map((s) => s.stop(10_000)));
    await Promise.allSettled([...this.#pools.values()].map((p) => p.end()));
    await Promise.allSettled(this.#proxies.map((p) => p.close()));
    await Promise.allSettled([this.redis?.stop(), this.kafka?.stop()]);
    if (this.pgPair) await stopPostgresPair(this.pgPair);
    if (this.#pgDir) fs.rmSync(this.#pgDir, { recursive: true, force: true });
    releasePorts(this.#servicePorts);
    this.#unregister?.();
    if (!keepLogs) fs.rmSync(this.logDir, { recursive: true, force: true });
  }
}

/** Calls `fn` again on a network error or a 5xx, for up to a minute. */
async function retrying(what: string, fn: () => Promise<Answer>): Promise<Answer> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    const res = await fn().catch((error: unknown) => error as Error);
    if (!(res instanceof Error) && res.status < 500) return res;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: ${res instanceof Error ? res.message : `${res.status} ${JSON.stringify(res.body)}`}`,
      );
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
