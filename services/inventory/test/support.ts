import type { Suite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import { startUsers, type UsersApp } from '../../users/src/app.ts';
import { usersConfig } from '../../users/src/config.ts';
import { createInventory, type Inventory } from '../src/app.ts';
import { inventoryConfig } from '../src/config.ts';

export type LogLine = Record<string, unknown> & { msg?: string };

/** The real users service in-process, on its own suite (database, key prefix, topics). */
export async function startUsersApp(s: Suite, env: Record<string, string> = {}): Promise<UsersApp> {
  const config = loadConfig(usersConfig, {
    SERVICE_NAME: 'users',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: s.databaseUrl,
    DATABASE_REPLICA_URL: s.replicaDatabaseUrl,
    REDIS_NODES: s.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
    KAFKA_BROKERS: s.kafkaBrokers.join(','),
    REDIS_KEY_PREFIX: s.keyPrefix,
    KAFKA_TOPIC_PREFIX: `${s.id}.`,
    ...env,
  });
  return startUsers(config, { logDestination: { write: () => {} } });
}

/** Inventory in-process on port 0, on the suite's database (migrated by the kit runner), prefix and topics. */
export async function startInventory(
  s: Suite,
  usersUrl: string,
  env: Record<string, string> = {},
  tracing?: UsersApp['service']['tracing'],
): Promise<Inventory & { url: string; logs: LogLine[] }> {
  const config = loadConfig(inventoryConfig, {
    SERVICE_NAME: 'inventory',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: s.databaseUrl,
    DATABASE_REPLICA_URL: s.replicaDatabaseUrl,
    REDIS_NODES: s.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
    KAFKA_BROKERS: s.kafkaBrokers.join(','),
    USERS_URL: usersUrl,
    KEY_PREFIX: s.keyPrefix,
    TOPIC_PREFIX: `${s.id}.`,
    ...env,
  });
  const logs: LogLine[] = [];
  const inventory = await createInventory({
    config,
    migrate: true,
    logDestination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
    ...(tracing ? { tracing } : {}),
  });
  const { url } = await inventory.start();
  return Object.assign(inventory, { url, logs });
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  ms: number;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    ms: performance.now() - started,
  };
}

let counter = 0;
export const PASSWORD = 'correct horse battery staple';

/** Registers a fresh account and logs it in; returns its id and access token. */
export async function registerAndLogin(
  usersUrl: string,
  tag = 'user',
): Promise<{ id: string; token: string; email: string }> {
  const email = `${tag}-${process.pid}-${Date.now()}-${counter++}@example.com`;
  const registered = await call(usersUrl, 'POST', '/users', {
    body: { email, password: PASSWORD, name: tag },
  });
  if (registered.status !== 201)
    throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const token = await login(usersUrl, email);
  return { id: registered.body['id'] as string, token, email };
}

export async function login(usersUrl: string, email: string): Promise<string> {
  const session = await call(usersUrl, 'POST', '/sessions', { body: { email, password: PASSWORD } });
  if (session.status !== 201) throw new Error(`login: ${session.status} ${JSON.stringify(session.body)}`);
  return session.body['accessToken'] as string;
}

/** The value of one sample of a metric in Prometheus text (0 when absent). */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.split(' ').pop());
  }
  return 0;
}

export async function metricsText(base: string): Promise<string> {
  return (await fetch(`${base}/metrics`)).text();
}

export const newItem = (overrides: Record<string, unknown> = {}) => ({
  title: 'Cordless drill',
  description: 'Lends for a weekend',
  priceCents: 1500,
  currency: 'EUR',
  quantity: 3,
  ...overrides,
});

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Rejects when `promise` has not settled within `ms` (a bounded wait for things like a group join). */
export function within<T>(what: string, promise: Promise<T>, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
