import net from 'node:net';
import { hostPort } from './ports.ts';

/** Kafka protocol API keys, for request-error injection. */
export const KafkaApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  TxnOffsetCommit: 28,
} as const;

export type KafkaApi = keyof typeof KafkaApiKey | number;

/**
 * A Kafka error: its protocol code (6) or its librdkafka name ('NOT_LEADER_FOR_PARTITION',
 * 'REQUEST_TIMED_OUT', 'COORDINATOR_NOT_AVAILABLE', ...).
 */
export type KafkaError = number | string;

export class KafkaMockControlError extends Error {
  override name = 'KafkaMockControlError';
}

const apiKey = (api: KafkaApi): number => (typeof api === 'number' ? api : KafkaApiKey[api]);

function token(v: string | number): string {
  const s = String(v);
  if (s === '' || /\s/.test(s)) throw new KafkaMockControlError(`invalid argument ${JSON.stringify(s)}`);
  return s;
}

/**
 * Client of the mock cluster's fault-control port. Brokers are numbered from 1. Every method
 * resolves once the mock has applied the change.
 */
export class KafkaMockControl {
  readonly address: string;
  private socket: net.Socket | undefined;
  private buffer = '';
  private pending: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];

  constructor(address: string) {
    this.address = address;
  }

  ping(): Promise<void> {
    return this.command('ping').then(() => undefined);
  }

  /** The bootstrap list of the cluster. */
  bootstrap(): Promise<string> {
    return this.command('bootstrap');
  }

  /** Closes the broker's connections and refuses new ones until brokerUp. */
  async brokerDown(brokerId: number): Promise<void> {
    await this.command('broker_down', brokerId);
  }

  async brokerUp(brokerId: number): Promise<void> {
    await this.command('broker_up', brokerId);
  }

  /** Delays every response of the broker by `rttMs`. */
  async setRtt(brokerId: number, rttMs: number): Promise<void> {
    await this.command('broker_rtt', brokerId, rttMs);
  }

  async setRack(brokerId: number, rack: string): Promise<void> {
    await this.command('broker_rack', brokerId, rack);
  }

  /** The next requests of this API, on any broker, fail with these errors in order. */
  async pushRequestErrors(api: KafkaApi, errors: KafkaError[]): Promise<void> {
    if (errors.length === 0) return;
    await this.command('push_errors', apiKey(api), ...errors);
  }

  /** The next requests of this API on one broker fail with these errors, each after a delay. */
  async pushBrokerRequestErrors(
    brokerId: number,
    api: KafkaApi,
    errors: { error: KafkaError; rttMs?: number }[],
  ): Promise<void> {
    if (errors.length === 0) return;
    await this.command(
      'push_error_rtts',
      brokerId,
      apiKey(api),
      ...errors.map((e) => `${token(e.error)}:${e.rttMs ?? 0}`),
    );
  }

  async clearRequestErrors(api: KafkaApi): Promise<void> {
    await this.command('clear_errors', apiKey(api));
  }

  /** How many pushed errors are still waiting for requests of this API on this broker. */
  async errorStackCount(brokerId: number, api: KafkaApi): Promise<number> {
    return Number(await this.command('error_count', brokerId, apiKey(api)));
  }

  async createTopic(topic: string, partitions = 4, replicationFactor = 3): Promise<void> {
    await this.command('topic_create', topic, partitions, replicationFactor);
  }

  /** Every request about this topic fails with `error` (use 0 / 'NO_ERROR' to clear). */
  async setTopicError(topic: string, error: KafkaError): Promise<void> {
    await this.command('topic_error', topic, error);
  }

  async setPartitionLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    await this.command('partition_leader', topic, partition, brokerId);
  }

  /** Which broker consumers should fetch from (KIP-392). */
  async setPartitionFollower(topic: string, partition: number, brokerId: number): Promise<void> {
    await this.command('partition_follower', topic, partition, brokerId);
  }

  async setCoordinator(type: 'group' | 'transaction', key: string, brokerId: number): Promise<void> {
    await this.command('coordinator', type, key, brokerId);
  }

  async setApiVersion(api: KafkaApi, minVersion: number, maxVersion: number): Promise<void> {
    await this.command('apiversion', apiKey(api), minVersion, maxVersion);
  }

  /** Sends one raw command line; resolves with what follows "ok". */
  command(...args: (string | number)[]): Promise<string> {
    const line = `${args.map(token).join(' ')}\n`;
    return new Promise((resolve, reject) => {
      const socket = this.connect();
      this.pending.push({ resolve, reject });
      socket.ref();
      socket.write(line);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): net.Socket {
    if (this.socket) return this.socket;
    const { host, port } = hostPort(this.address);
    const socket = net.connect({ host, port });
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const reply = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const waiter = this.pending.shift();
        if (!waiter) continue;
        if (reply === 'ok' || reply.startsWith('ok ')) waiter.resolve(reply.slice(3));
        else waiter.reject(new KafkaMockControlError(reply.replace(/^err /, '')));
      }
      // An idle control connection must not keep the process alive.
      if (this.pending.length === 0) socket.unref();
    });
    const fail = (e: Error) => {
      if (this.socket === socket) this.socket = undefined;
      this.buffer = '';
      for (const w of this.pending.splice(0)) w.reject(e);
    };
    socket.on('error', (e) => fail(new KafkaMockControlError(`control ${this.address}: ${e.message}`)));
    socket.on('close', () => fail(new KafkaMockControlError(`control ${this.address}: connection closed`)));
    this.socket = socket;
    return socket;
  }
}
