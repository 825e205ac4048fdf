import assert from 'node:assert/strict';
import { type Answer, call } from '@souk/harness/http';
import { waitFor } from '@souk/harness/infra/processes';
import type { Suite } from '@souk/harness/suite';
import { loadConfig } from '@souk/kit';
import { type EventEnvelope, toMessage } from '@souk/kit/events/index';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { WebSocket } from 'ws';
import type { UsersApp } from '../../users/src/app.ts';
import { startApp } from '../../users/test/support.ts';
import { createNotifications, type Notifications } from '../src/app.ts';
import { notificationsConfig } from '../src/config.ts';
import { STREAM_PROTOCOL } from '../src/routes/stream.ts';

export type LogLine = Record<string, unknown> & { msg?: string };
export const PASSWORD = 'correct horse battery staple';

/** The real users service in-process (the token issuer), with an admin account. */
export async function startUsersFor(
  s: Suite,
): Promise<UsersApp & { admin: { email: string; password: string } }> {
  const admin = { email: `admin-${s.id}@example.com`, password: PASSWORD };
  const users = await startApp(s, {
    LOG_LEVEL: 'silent',
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
  });
  return Object.assign(users, { admin });
}

/** Notifications in-process on port 0, on the suite's database, key prefix and topics. */
export async function startNotifications(
  s: Suite,
  usersUrl: string,
  env: Record<string, string> = {},
): Promise<Notifications & { url: string; logs: LogLine[] }> {
  const config = loadConfig(notificationsConfig, {
    ...s.serviceEnv('notifications'),
    LOG_LEVEL: 'info',
    USERS_URL: usersUrl,
    MAIL_POLL_MS: '500',
    ...env,
  });
  const logs: LogLine[] = [];
  const app = await createNotifications({
    config,
    logDestination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  });
  const { url } = await app.start();
  return Object.assign(app, { url, logs });
}

export { type Answer, call };

let counter = 0;
/** Registers a customer through users (which publishes UserRegistered) and signs in. */
export async function customer(
  usersUrl: string,
  tag = 'c',
): Promise<{ id: string; email: string; token: string }> {
  const email = `${tag}-${process.pid}-${Date.now()}-${counter++}@example.com`;
  const reg = await call(usersUrl, 'POST', '/users', {
    body: { email, password: PASSWORD, name: `Test ${tag}` },
  });
  assert.equal(reg.status, 201, reg.text);
  return { id: reg.body['id'] as string, email, token: await login(usersUrl, email, PASSWORD) };
}

export async function login(usersUrl: string, email: string, password: string): Promise<string> {
  const session = await call(usersUrl, 'POST', '/sessions', { body: { email, password } });
  assert.equal(session.status, 201, session.text);
  return session.body['accessToken'] as string;
}

/** Publishes envelopes as the other services' relays do (keyed by aggregate id, kit headers). */
export class Publisher {
  readonly #producer: Producer;
  readonly #s: Suite;

  constructor(s: Suite) {
    this.#s = s;
    const kafka = new Kafka({
      clientId: 'notifications-test',
      brokers: s.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    this.#producer = kafka.producer({ allowAutoTopicCreation: true });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  async send(topic: string, ...events: EventEnvelope[]): Promise<void> {
    await this.#producer.send({
      topic: this.#s.topic(topic),
      acks: -1,
      messages: events.map((e) => toMessage(e)),
    });
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }
}

export interface StreamMessage {
  type: string;
  replay?: boolean;
  lastId?: number;
  notification?: { id: number; kind: string; title: string; data: Record<string, unknown> };
  event?: { id: string; type: string; aggregateType: string; aggregateId: string; topic: string };
}

/** A WebSocket client of the stream, recording every message. */
export class StreamClient {
  readonly messages: StreamMessage[] = [];
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as StreamMessage));
    ws.on('close', (code) => {
      this.closeCode = code;
    });
  }

  static open(
    base: string,
    token: string,
    options: { lastId?: number; path?: string } = {},
  ): Promise<StreamClient> {
    const url = new URL(options.path ?? '/notifications/stream', base.replace(/^http/, 'ws'));
    if (options.lastId !== undefined) url.searchParams.set('lastId', String(options.lastId));
    const ws = new WebSocket(url, [STREAM_PROTOCOL, `bearer.${token}`]);
    const client = new StreamClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  notifications() {
    return this.messages.filter((m) => m.type === 'notification').map((m) => m.notification!);
  }

  async ready(): Promise<StreamMessage> {
    await waitFor('ready', () => this.messages.some((m) => m.type === 'ready'), 10_000);
    return this.messages.find((m) => m.type === 'ready')!;
  }

  async waitForNotifications(count: number, timeoutMs = 20_000) {
    await waitFor(`${count} notifications`, () => this.notifications().length >= count, timeoutMs);
    return this.notifications();
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** The status a refused upgrade answered with (throws if the upgrade succeeded). */
export function refusedStatus(
  base: string,
  protocols: string[],
  path = '/notifications/stream',
): Promise<number> {
  const ws = new WebSocket(new URL(path, base.replace(/^http/, 'ws')), protocols);
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      ws.close();
      reject(new Error('upgrade accepted'));
    });
    ws.once('error', () => {});
  });
}

/** Waits a little longer for anything more to arrive (to show that nothing else does). */
export const settle = (ms = 1_500) => new Promise((r) => setTimeout(r, ms));

/** A counter's value from a service's /metrics. */
export async function metric(
  base: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      total += Number(line.split(' ').at(-1));
  }
  return total;
}
