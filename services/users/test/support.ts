import { generateKeyPairSync } from 'node:crypto';
import type { Suite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import { startUsers, type UsersApp, type UsersAppOptions } from '../src/app.ts';
import { usersConfig } from '../src/config.ts';

export type LogLine = Record<string, unknown> & { msg?: string };

/** An EC P-256 private key as the Helm chart generates it (SEC1 PEM). */
export function ecKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'sec1', format: 'pem' })
    .toString();
}

/** The users service in-process on port 0, on the suite's database, key prefix and topics. */
export async function startApp(
  s: Suite,
  env: Record<string, string> = {},
  options: UsersAppOptions = {},
): Promise<UsersApp & { logs: LogLine[] }> {
  const config = loadConfig(usersConfig, {
    SERVICE_NAME: 'users',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: s.databaseUrl,
    DATABASE_REPLICA_URL: s.replicaDatabaseUrl,
    REDIS_NODES: s.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
    KAFKA_BROKERS: s.kafkaBrokers.join(','),
    REDIS_KEY_PREFIX: s.keyPrefix,
    KAFKA_TOPIC_PREFIX: `${s.id}.`,
    ...env,
  });
  const logs: LogLine[] = [];
  const app = await startUsers(config, {
    logDestination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
    ...options,
  });
  return Object.assign(app, { logs });
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  ms: number;
}

/** A JSON call: `body` is sent as JSON unless it is a string (sent raw). */
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
  const ms = performance.now() - started;
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    ms,
  };
}

let counter = 0;
/** A fresh address per call, so tests do not share accounts or per-account limits. */
export const freshEmail = (tag = 'user') => `${tag}-${process.pid}-${Date.now()}-${counter++}@example.com`;
export const PASSWORD = 'correct horse battery staple';
