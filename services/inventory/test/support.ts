import { type Answer, call } from '@souk/harness/http';
import type { Suite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import type { UsersApp } from '../../users/src/app.ts';
import { startApp } from '../../users/test/support.ts';
import { createInventory, type Inventory } from '../src/app.ts';
import { inventoryConfig } from '../src/config.ts';

export type LogLine = Record<string, unknown> & { msg?: string };

/** The real users service in-process, on its own suite (database, key prefix, topics). */
export const startUsersApp = (s: Suite, env: Record<string, string> = {}): Promise<UsersApp> =>
  startApp(s, { LOG_LEVEL: 'silent', ...env });

/** Inventory in-process on port 0, on the suite's database (migrated by the kit runner), prefix and topics. */
export async function startInventory(
  s: Suite,
  usersUrl: string,
  env: Record<string, string> = {},
  tracing?: UsersApp['service']['tracing'],
): Promise<Inventory & { url: string; logs: LogLine[] }> {
  const config = loadConfig(inventoryConfig, {
    ...s.serviceEnv('inventory'),
    LOG_LEVEL: 'warn',
    USERS_URL: usersUrl,
    ...env,
  });
  const logs: LogLine[] = [];
  const inventory = await createInventory({
    config,
    logDestination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
    ...(tracing ? { tracing } : {}),
  });
  const { url } = await inventory.start();
  return Object.assign(inventory, { url, logs });
}

export { type Answer, call };

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

/** Rejects when `promise` has not settled within `ms` (a bounded wait for things like a group join). */
export function within<T>(what: string, promise: Promise<T>, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
