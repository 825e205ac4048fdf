import net from 'node:net';

/**
 * A TCP forwarder standing for the Kubernetes Service in front of the Postgres leader: services
 * connect to it, never to a server. A failover moves it to the promoted server and cuts every
 * open connection, as endpoints changing under a Service do; the pools reconnect by themselves.
 */
export class LeaderProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #upstream: number;
  port = 0;

  constructor(upstreamPort: number) {
    this.#upstream = upstreamPort;
    this.#server = net.createServer((client) => this.#forward(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Sends new connections to `port` and drops the open ones. */
  switchTo(port: number): void {
    this.#upstream = port;
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }

  #forward(client: net.Socket): void {
    const server = net.connect({ host: '127.0.0.1', port: this.#upstream });
    client.setNoDelay(true);
    server.setNoDelay(true);
    this.#sockets.add(client);
    this.#sockets.add(server);
    const done = () => {
      client.destroy();
      server.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(server);
    };
    client.on('error', done).on('close', done);
    server.on('error', done).on('close', done);
    client.pipe(server);
    server.pipe(client);
  }
}
