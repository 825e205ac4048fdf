import { createServer, type Server, type Socket } from 'node:net';
import { alterConfigs } from './alter-configs.ts';
import {
  type ApiHandler,
  ApiKey,
  type BrokerNode,
  type CreateTopicPolicy,
  type RequestContext,
} from './api.ts';
import { apiVersions } from './api-versions.ts';
import { serveConnection } from './connection.ts';
import { createPartitions } from './create-partitions.ts';
import { createTopics } from './create-topics.ts';
import { deleteTopics } from './delete-topics.ts';
import { describeConfigs } from './describe-configs.ts';
import { metadata } from './metadata.ts';
import { validateTopicConfig } from './topic-configs.ts';
import { type TopicSnapshot, TopicStore } from './topic-store.ts';

const HOST = '127.0.0.1';

const handlers: readonly ApiHandler[] = [
  apiVersions,
  metadata,
  createTopics,
  deleteTopics,
  createPartitions,
  describeConfigs,
  alterConfigs,
];

export interface KafkaAdminBrokerOptions {
  /** Number of brokers (node ids 0..brokers-1), each on its own port. Default 3. */
  readonly brokers?: number;
  /** The node id reported as controller. Default 0. */
  readonly controllerId?: number;
  readonly clusterId?: string;
  readonly createTopicPolicy?: CreateTopicPolicy;
}

export type ApiName = keyof typeof ApiKey;

export interface KafkaAdminBroker {
  /** host:port of every broker, for kafkajs `brokers`. */
  readonly bootstrap: string[];
  topics(): TopicSnapshot[];
  /** Changes (or with null removes) one dynamic topic config behind the client's back, as drift. */
  setTopicConfig(topic: string, name: string, value: string | null): void;
  /** Requests received per API since start (or the last resetRequestCounts). */
  requestCounts(): Record<ApiName, number>;
  resetRequestCounts(): void;
  /** TCP connections accepted since start, over all brokers. */
  connectionsAccepted(): number;
  /** Stops listening and drops every connection: clients get ECONNREFUSED until goUp(). */
  goDown(): Promise<void>;
  goUp(): Promise<void>;
  stop(): Promise<void>;
}

interface Listener {
  readonly nodeId: number;
  port: number;
  server: Server | null;
}

/** Starts a Kafka-protocol test cluster for the admin plane on 127.0.0.1. */
export async function startKafkaAdminBroker(
  options: KafkaAdminBrokerOptions = {},
): Promise<KafkaAdminBroker> {
  const count = options.brokers ?? 3;
  if (count < 1) throw new Error('brokers must be >= 1');
  const controllerId = options.controllerId ?? 0;
  if (controllerId < 0 || controllerId >= count)
    throw new Error(`controllerId ${controllerId} is not a broker`);

  const listeners: Listener[] = Array.from({ length: count }, (_, nodeId) => ({
    nodeId,
    port: 0,
    server: null,
  }));
  const sockets = new Set<Socket>();
  const store = new TopicStore(listeners.map((l) => l.nodeId));
  const counts = new Map<number, number>();
  let accepted = 0;

  const context: RequestContext = {
    store,
    clusterId: options.clusterId ?? 'souk-test-cluster',
    controllerId,
    brokers: (): BrokerNode[] => listeners.map((l) => ({ nodeId: l.nodeId, host: HOST, port: l.port })),
    handlers,
    createTopicPolicy: options.createTopicPolicy,
  };

  const listen = (l: Listener) =>
    new Promise<void>((resolve, reject) => {
      const server = createServer((socket) => {
        sockets.add(socket);
        accepted++;
        socket.on('close', () => sockets.delete(socket));
        serveConnection(socket, { context, onRequest: (key) => counts.set(key, (counts.get(key) ?? 0) + 1) });
      });
      server.once('error', reject);
      server.listen(l.port, HOST, () => {
        server.off('error', reject);
        const address = server.address();
        if (address && typeof address === 'object') l.port = address.port;
        l.server = server;
        resolve();
      });
    });

  const close = async () => {
    const closing = listeners.map(
      (l) =>
        new Promise<void>((resolve) => {
          if (!l.server) return resolve();
          l.server.close(() => resolve());
          l.server = null;
        }),
    );
    for (const s of sockets) s.destroy();
    sockets.clear();
    await Promise.all(closing);
  };

  for (const l of listeners) await listen(l);

  return {
    bootstrap: listeners.map((l) => `${HOST}:${l.port}`),
    topics: () => store.snapshot(),
    setTopicConfig(topic, name, value) {
      const t = store.get(topic);
      if (!t) throw new Error(`no topic ${topic}`);
      if (value === null) {
        t.config.delete(name);
        return;
      }
      const problem = validateTopicConfig(name, value);
      if (problem) throw new Error(problem);
      t.config.set(name, value);
    },
    requestCounts() {
      const out = {} as Record<ApiName, number>;
      for (const [name, key] of Object.entries(ApiKey) as [ApiName, number][])
        out[name] = counts.get(key) ?? 0;
      return out;
    },
    resetRequestCounts: () => counts.clear(),
    connectionsAccepted: () => accepted,
    goDown: close,
    async goUp() {
      for (const l of listeners) if (!l.server) await listen(l);
    },
    stop: close,
  };
}
