import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Answer, call } from '@souk/harness/http';
import { waitFor } from '@souk/harness/infra/processes';
import { type Suite, useSuite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import pg from 'pg';
import { createInventory, type Inventory } from '../../inventory/src/app.ts';
import { inventoryConfig } from '../../inventory/src/config.ts';
import { createPayments, type Payments } from '../../payments/src/app.ts';
import { paymentsConfig } from '../../payments/src/config.ts';
import { startUsers, type UsersApp } from '../../users/src/app.ts';
import { usersConfig } from '../../users/src/config.ts';
import { createOrders, type OrdersApp } from '../src/app.ts';
import { ordersConfig } from '../src/config.ts';

/**
 * The real platform for the saga: users (tokens), inventory (prices, reservations), payments
 * (ledger) and orders, each on its own database, all on one set of topics and one Redis prefix.
 * Orders runs in-process, or as a child process where killing it is the point.
 */
export interface PlatformOptions {
  orders?: Record<string, string>;
  payments?: Record<string, string>;
  inventory?: Record<string, string>;
  /** Run orders as `node src/main.ts` in a child process. */
  ordersAsChild?: boolean;
}

export const ADMIN = { email: 'admin@souk.test', password: 'Admin-password-for-tests-1' };
export const TEST_CARDS = {
  approve: '4242 4242 4242 4242',
  decline: '4000 0000 0000 0002',
  timeout: '4000 0000 0000 0408',
};

export { type Answer, call };

const silent = { write: () => {} };

export class Platform {
  users!: UsersApp;
  inventory!: Inventory;
  payments!: Payments;
  orders: OrdersApp | undefined;
  ordersUrl = '';
  child: ChildProcess | undefined;
  childLog: string[] = [];
  readonly suites: Suite[] = [];
  #ordersEnv: Record<string, string> = {};
  #paymentsPool!: pg.Pool;
  #inventoryPool!: pg.Pool;

  constructor(
    readonly name: string,
    readonly options: PlatformOptions = {},
  ) {}

  /** The suite that owns the topics and key prefix, and the orders database. */
  get main(): Suite {
    return this.suites[0]!;
  }

  async start(): Promise<void> {
    const [main, users, inventory, payments] = await Promise.all(
      ['', '-users', '-inventory', '-payments'].map((suffix) => useSuite(`${this.name}${suffix}`)),
    );
    this.suites.push(main!, users!, inventory!, payments!);
    const common = (s: Suite) => ({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: s.databaseUrl,
      DATABASE_REPLICA_URL: s.replicaDatabaseUrl,
      REDIS_NODES: main!.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
      KAFKA_BROKERS: main!.kafkaBrokers.join(','),
    });
    const topicPrefix = `${main!.id}.`;
    this.users = await startUsers(
      loadConfig(usersConfig, {
        ...common(users!),
        SERVICE_NAME: 'users',
        REDIS_KEY_PREFIX: main!.keyPrefix,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        LOGIN_LIMIT_PER_IP: '100000',
        LOGIN_LIMIT_PER_ACCOUNT: '100000',
      }),
      { logDestination: silent },
    );
    const tracing = this.users.service.tracing;
    this.inventory = await createInventory({
      config: loadConfig(inventoryConfig, {
        ...common(inventory!),
        SERVICE_NAME: 'inventory',
        USERS_URL: this.users.url,
        REDIS_KEY_PREFIX: main!.keyPrefix,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        ...this.options.inventory,
      }),
      logDestination: silent,
      tracing,
    });
    const inventoryUrl = (await this.inventory.start()).url;
    this.payments = await createPayments({
      config: loadConfig(paymentsConfig, {
        ...common(payments!),
        SERVICE_NAME: 'payments',
        USERS_URL: this.users.url,
        REDIS_KEY_PREFIX: main!.keyPrefix,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        PROVIDER_TIMEOUT_MS: '2000',
        PROVIDER_RETRY_BASE_MS: '10',
        PROVIDER_RETRY_MAX_MS: '50',
        ...this.options.payments,
      }),
      logDestination: silent,
      tracing,
    });
    await this.payments.start();
    this.#ordersEnv = {
      ...common(main!),
      SERVICE_NAME: 'orders',
      USERS_URL: this.users.url,
      INVENTORY_URL: inventoryUrl,
      REDIS_KEY_PREFIX: main!.keyPrefix,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      ...this.options.orders,
    };
    this.#paymentsPool = new pg.Pool({ connectionString: payments!.databaseUrl, max: 2 });
    this.#inventoryPool = new pg.Pool({ connectionString: inventory!.databaseUrl, max: 2 });
    await this.startOrders();
    await Promise.all([this.inventory.joined(), this.payments.joined(), this.orders?.joined()]);
  }

  async startOrders(): Promise<void> {
    if (!this.options.ordersAsChild) {
      this.orders = await createOrders({
        config: loadConfig(ordersConfig, this.#ordersEnv),
        logDestination: silent,
        tracing: this.users.service.tracing,
      });
      this.ordersUrl = (await this.orders.start()).url;
      return;
    }
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, ...this.#ordersEnv, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let buffer = '';
    const listening = new Promise<string>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`orders exited with ${code}: ${this.childLog.slice(-5).join('\n')}`)),
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl = buffer.indexOf('\n');
        while (nl >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          this.childLog.push(line);
          try {
            const entry = JSON.parse(line) as { msg?: string; url?: string };
            if (entry.msg === 'listening' && entry.url) resolve(entry.url);
          } catch {}
          nl = buffer.indexOf('\n');
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => this.childLog.push(chunk.toString('utf8')));
    });
    this.ordersUrl = await listening;
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed. */
  async killOrders(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  async stopOrders(): Promise<void> {
    if (this.child) {
      const child = this.child;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      this.child = undefined;
    }
    await this.orders?.stop();
    this.orders = undefined;
  }

  async stop(): Promise<void> {
    await this.stopOrders();
    await Promise.allSettled([this.payments?.stop(), this.inventory?.stop()]);
    await this.users?.stop();
    await this.#paymentsPool?.end();
    await this.#inventoryPool?.end();
    for (const s of this.suites.reverse()) await s.close();
  }

  // --- the test's view of the platform ---

  async register(email: string): Promise<string> {
    const password = 'Correct-horse-battery-9';
    const created = await call(this.users.url, 'POST', '/users', {
      body: { email, password, name: email.split('@')[0] },
    });
    if (created.status !== 201)
      throw new Error(`register ${email}: ${created.status} ${JSON.stringify(created.body)}`);
    return this.login(email, password);
  }

  async login(email: string, password: string): Promise<string> {
    const session = await call(this.users.url, 'POST', '/sessions', { body: { email, password } });
    if (session.status !== 201) throw new Error(`login ${email}: ${session.status}`);
    return session.body['accessToken'] as string;
  }

  async createItem(
    token: string,
    item: { title?: string; priceCents: number; quantity: number; currency?: string },
  ) {
    const res = await call(this.inventoryUrl, 'POST', '/items', {
      token,
      body: {
        title: item.title ?? 'A thing',
        priceCents: item.priceCents,
        currency: item.currency ?? 'EUR',
        quantity: item.quantity,
      },
    });
    if (res.status !== 201) throw new Error(`create item: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body['id'] as string;
  }

  get inventoryUrl(): string {
    return this.#ordersEnv['INVENTORY_URL']!;
  }

  async stockOf(itemId: string): Promise<number> {
    const { rows } = await this.#inventoryPool.query<{ quantity: number }>(
      'SELECT quantity FROM items WHERE id = $1',
      [itemId],
    );
    return rows[0]!.quantity;
  }

  async reservationOf(orderId: string): Promise<string | undefined> {
    const { rows } = await this.#inventoryPool.query<{ status: string }>(
      'SELECT status::text FROM reservations WHERE order_id = $1',
      [orderId],
    );
    return rows[0]?.status;
  }

  /** The order's payment operations (kind, result) and ledger balances, from payments' primary. */
  async ledgerOf(orderId: string) {
    const ops = await this.#paymentsPool.query<{ kind: string; result: string; amount_cents: string }>(
      'SELECT kind::text, result::text, amount_cents::text FROM payment_operations WHERE order_id = $1 ORDER BY created_at',
      [orderId],
    );
    const balances = await this.#paymentsPool.query<{ account: string; total: string }>(
      `SELECT e.account::text, sum(e.amount_cents)::text AS total FROM ledger_entries e
       JOIN payments p ON p.id = e.payment_id WHERE p.order_id = $1 GROUP BY e.account`,
      [orderId],
    );
    return {
      operations: ops.rows.map((r) => ({
        kind: r.kind,
        result: r.result,
        amountCents: Number(r.amount_cents),
      })),
      balances: Object.fromEntries(balances.rows.map((r) => [r.account, Number(r.total)])) as Record<
        string,
        number
      >,
    };
  }

  async placeOrder(token: string, body: unknown, key: string = crypto.randomUUID()): Promise<Answer> {
    return call(this.ordersUrl, 'POST', '/orders', { token, body, headers: { 'Idempotency-Key': key } });
  }

  async order(token: string, id: string): Promise<Answer> {
    return call(this.ordersUrl, 'GET', `/orders/${id}`, { token });
  }

  /** Polls until the order is CONFIRMED or CANCELLED; returns its body. */
  async settled(token: string, id: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return waitFor(
      `order ${id} to settle`,
      async () => {
        const res = await call(this.ordersUrl, 'GET', `/orders/${id}`, { token }).catch(() => undefined);
        const status = res?.body['status'];
        return status === 'CONFIRMED' || status === 'CANCELLED' ? res!.body : undefined;
      },
      timeoutMs,
    );
  }
}

/** `[step:outcome, ...]` of an order body's saga history. */
export function historyOf(order: Record<string, unknown>): string[] {
  const saga = order['saga'] as { history: { step: string; outcome: string }[] };
  return saga.history.map((h) => `${h.step}:${h.outcome}`);
}
