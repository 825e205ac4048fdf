import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Checks {
  /** The process is alive and its loops are running. */
  healthy(): boolean;
  /** Caches are synced: the process can serve (a standby replica is ready too). */
  ready(): boolean;
}

/** /metrics, /healthz and /readyz on one small HTTP server (the kubelet probes, Prometheus scrapes). */
export class ProbeServer {
  private server: http.Server | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly checks: Checks,
  ) {}

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        this.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(text);
          },
          (e: Error) => {
            res.writeHead(500);
            res.end(e.message);
          },
        );
        return;
      }
      const check =
        path === '/healthz' ? this.checks.healthy() : path === '/readyz' ? this.checks.ready() : undefined;
      if (check === undefined) {
        res.writeHead(404);
        res.end('not found\n');
        return;
      }
      res.writeHead(check ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(check ? 'ok\n' : 'not ready\n');
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
