import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type cors from '@koa/cors';
import type { DestinationStream } from 'pino';
import { createApp } from './app.ts';
import type { BaseConfig } from './config.ts';
import type { Middleware } from './context.ts';
import { Health } from './health.ts';
import { HttpClient, type HttpClientOptions } from './http-client.ts';
import { createLogger, flushLogger, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import type { OpenApiOptions } from './openapi.ts';
import type { Route } from './route.ts';
import { Shutdown } from './shutdown.ts';
import { installTracing, type SpanExporter, type Tracing } from './tracing.ts';
import type { UpgradeHandler } from './upgrade.ts';

/** Where a service runs: what its process (or a test running several services in one) hands it. */
export interface ServiceHost {
  /** Log destination; stdout through `logDestination()` by default. */
  logDestination?: DestinationStream | undefined;
  /** An extra span exporter (tests: an InMemorySpanExporter). */
  spanExporter?: SpanExporter | undefined;
  /** Tracing that is already installed in this process (a second service in one test process). */
  tracing?: Tracing | undefined;
}

export interface ServiceOptions<C extends BaseConfig> extends ServiceHost {
  config: C;
  version?: string;
  description?: string;
}

export interface StartOptions {
  routes: Route[];
  /** Middleware for every request, before routing. */
  use?: Middleware[];
  cors?: cors.Options;
  openapi?: OpenApiOptions;
  /** Takes the port's upgrade requests (WebSockets); without it they are left unanswered by Node. */
  upgrade?: UpgradeHandler;
}

export interface Listening {
  url: string;
  port: number;
  metricsUrl?: string;
}

/**
 * A running service: the registries the rest of the kit plugs into (health checks, shutdown
 * hooks, metrics, logger, tracing) and the HTTP server around the routes.
 */
export class Service<C extends BaseConfig = BaseConfig> {
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health = new Health();
  readonly shutdown: Shutdown;
  readonly tracing: Tracing;
  readonly #version: string;
  readonly #description: string | undefined;
  #server: Server | undefined;
  #metricsServer: Server | undefined;
  #upgrade: UpgradeHandler | undefined;
  #stopping: Promise<boolean> | undefined;

  constructor(options: ServiceOptions<C>) {
    const { config } = options;
    this.config = config;
    this.#version = options.version ?? '0.0.0';
    this.#description = options.description;
    this.logger = createLogger({
      service: config.SERVICE_NAME,
      level: config.LOG_LEVEL,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    this.metrics = new Metrics({ service: config.SERVICE_NAME });
    this.shutdown = new Shutdown(this.logger);
    this.tracing =
      options.tracing ??
      installTracing({
        service: config.SERVICE_NAME,
        version: this.#version,
        endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
        ...(options.spanExporter ? { exporter: options.spanExporter } : {}),
      });
    if (!options.tracing)
      this.shutdown.register('tracing', () => this.tracing.shutdown(), { phase: 'telemetry' });
  }

  /** An outgoing HTTP client on this service's metrics, closed on shutdown. */
  httpClient(options: Omit<HttpClientOptions, 'metrics'> = {}): HttpClient {
    const client = new HttpClient({ ...options, metrics: this.metrics });
    this.shutdown.register('http client', () => client.close(), { phase: 'clients' });
    return client;
  }

  /** Builds the app and listens on PORT (and METRICS_PORT when set). */
  async start(options: StartOptions): Promise<Listening> {
    if (this.#server) throw new Error('service already started');
    const separateMetrics = this.config.METRICS_PORT !== undefined;
    const app = createApp({
      config: this.config,
      logger: this.logger,
      metrics: this.metrics,
      health: this.health,
      routes: options.routes,
      openapi: {
        title: this.config.SERVICE_NAME,
        version: this.#version,
        ...(this.#description ? { description: this.#description } : {}),
        ...options.openapi,
      },
      serveMetrics: !separateMetrics,
      ...(options.use ? { use: options.use } : {}),
      ...(options.cors ? { cors: options.cors } : {}),
    });
    const server = createServer(app.callback());
    // Node's own limit on receiving a request; the route timeout covers the handler.
    server.requestTimeout = this.config.REQUEST_TIMEOUT_MS + 5000;
    // Outlive the ingress's idle upstream connections, so it never sends on one being closed.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    if (options.upgrade) {
      const upgrade = options.upgrade;
      this.#upgrade = upgrade;
      server.on('upgrade', (req, socket, head) => upgrade.handle(req, socket, head));
    }
    this.#server = server;
    const port = await listen(server, this.config.PORT, this.config.HOST);
    const url = `http://${displayHost(this.config.HOST)}:${port}`;
    const listening: Listening = { url, port };
    if (separateMetrics) {
      const metricsServer = createServer((req, res) => {
        if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        this.metrics.text().then(
          (text) => res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(text),
          (error: unknown) => {
            this.logger.error({ err: error }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      });
      this.#metricsServer = metricsServer;
      const metricsPort = await listen(metricsServer, this.config.METRICS_PORT ?? 0, this.config.HOST);
      listening.metricsUrl = `http://${displayHost(this.config.HOST)}:${metricsPort}/metrics`;
    }
    this.logger.info({ url, metrics: listening.metricsUrl ?? `${url}/metrics` }, 'listening');
    return listening;
  }

  /**
   * Graceful stop: report not ready, stop accepting connections, let in-flight requests finish
   * (up to SHUTDOWN_DRAIN_MS, then cut), run the shutdown hooks in order, close the metrics port,
   * flush the log. Resolves true when everything finished cleanly.
   */
  stop(): Promise<boolean> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<boolean> {
    this.health.markShuttingDown();
    if (this.#upgrade) {
      await this.#upgrade.close().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'closing upgraded connections failed');
      });
    }
    let drained = true;
    if (this.#server) drained = await drain(this.#server, this.config.SHUTDOWN_DRAIN_MS);
    if (!drained)
      this.logger.warn({ drain_ms: this.config.SHUTDOWN_DRAIN_MS }, 'cut requests still in flight');
    const hooksOk = await this.shutdown.run();
    if (this.#metricsServer) await drain(this.#metricsServer, 1000);
    this.logger.info({ drained, hooks_ok: hooksOk }, 'stopped');
    // Log lines are written asynchronously; the last of them would be lost to a process.exit.
    await flushLogger(this.logger);
    return drained && hooksOk;
  }

  /** On SIGTERM or SIGINT: stop, then exit 0 (1 when something did not finish cleanly). */
  exitOnSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.#stopping) {
        this.logger.warn({ signal }, 'second signal, exiting now');
        process.exit(1);
      }
      this.logger.info({ signal }, 'shutting down');
      this.stop().then(
        (ok) => process.exit(ok ? 0 : 1),
        (error: unknown) => {
          this.logger.fatal({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}

export function createService<C extends BaseConfig>(options: ServiceOptions<C>): Service<C> {
  return new Service(options);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Closes the listening socket, then waits for open connections to finish their requests.
 * Keep-alive connections that go idle are closed as soon as they do; whatever is still open
 * after `ms` is cut. Resolves false in that case.
 */
function drain(server: Server, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve(true);
    let cut = false;
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      cut = true;
      server.closeAllConnections();
    }, ms);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(deadline);
      resolve(!cut);
    });
    server.closeIdleConnections();
  });
}

const displayHost = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
