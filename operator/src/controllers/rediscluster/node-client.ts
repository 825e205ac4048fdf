import { Redis } from 'ioredis';

/** A node address as the operator knows it: `host:port` (the pod IP and the client port). */
export type NodeAddress = string;

export function splitAddress(address: NodeAddress): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  if (i <= 0) throw new Error(`bad node address "${address}": expected host:port`);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`bad port in node address "${address}"`);
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port };
}

export interface NodePoolOptions {
  /** `requirepass` of the nodes, if any; also passed to MIGRATE. */
  password?: string;
  connectTimeoutMs?: number;
  /** Upper bound for one command; MIGRATE of a batch is the slowest one. */
  commandTimeoutMs?: number;
}

/**
 * One plain (non-cluster) connection per node address, reused across reconciles. Cluster
 * management talks to each node directly: a cluster client would follow redirections, which is
 * exactly what must not happen while the topology is being changed.
 */
export class NodePool {
  readonly password: string | undefined;
  private readonly clients = new Map<NodeAddress, Redis>();
  private readonly connectionErrors = new Map<NodeAddress, string>();
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;

  constructor(opts: NodePoolOptions = {}) {
    this.password = opts.password;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 1000;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
  }

  /** The connection to `address`, (re)opened on demand: a node that restarted gets a fresh one. */
  node(address: NodeAddress): Redis {
    const existing = this.clients.get(address);
    if (existing && existing.status !== 'end' && existing.status !== 'close') return existing;
    existing?.disconnect();
    const { host, port } = splitAddress(address);
    const client = new Redis({
      host,
      port,
      password: this.password,
      lazyConnect: false,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: this.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
      // A node that is down is reported as unreachable; the next reconcile tries again.
      retryStrategy: () => null,
    });
    // Commands fail with a bare "Connection is closed": keep the cause (ECONNREFUSED...) to report.
    client.on('error', (e: Error) => this.connectionErrors.set(address, e.message));
    client.on('ready', () => this.connectionErrors.delete(address));
    this.clients.set(address, client);
    return client;
  }

  /** Why the connection to `address` last failed, if it did. */
  connectionError(address: NodeAddress): string | undefined {
    return this.connectionErrors.get(address);
  }

  /** Sends one command to one node. */
  call(address: NodeAddress, command: string, ...args: (string | number)[]): Promise<unknown> {
    return this.node(address).call(command, ...args);
  }

  /** Sends several commands to one node in one round trip; each result or error is returned in order. */
  async pipeline(address: NodeAddress, commands: (string | number)[][]): Promise<PipelineResult[]> {
    if (commands.length === 0) return [];
    const p = this.node(address).pipeline();
    for (const [cmd, ...args] of commands) p.call(String(cmd), ...args);
    const out = (await p.exec()) ?? [];
    return out.map(([err, value]) => (err ? { error: err } : { value }));
  }

  /** Drops the connection to one address (after the node was reset or replaced). */
  drop(address: NodeAddress): void {
    this.clients.get(address)?.disconnect();
    this.clients.delete(address);
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

export type PipelineResult = { value: unknown; error?: undefined } | { error: Error; value?: undefined };
