import cors from '@koa/cors';
import Koa from 'koa';
import { accessLog } from './access-log.ts';
import type { BaseConfig } from './config.ts';
import type { KitState, Middleware } from './context.ts';
import type { Health } from './health.ts';
import { httpMetrics } from './http-metrics.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { type OpenApiInfo, type OpenApiOptions, openApiDocument } from './openapi.ts';
import { probeRoutes } from './probes.ts';
import { requestEnvelope } from './request-envelope.ts';
import { defineRoute, type Route } from './route.ts';
import { routes as mountRoutes } from './router.ts';

export interface AppOptions {
  config: BaseConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  routes: Route[];
  openapi: OpenApiInfo & OpenApiOptions;
  /** For every request, after the kit's own middleware and before routing (e.g. a global rate limit). */
  use?: Middleware[];
  /** Serve /metrics from this app (when there is no separate metrics port). */
  serveMetrics?: boolean;
  cors?: cors.Options;
}

/**
 * A Koa app with what every service needs around its routes. Middleware order, outermost first:
 * the kit's envelope (request id, security headers, server span, problem+json errors, metrics,
 * access log), CORS, then the service's middleware and the router (timeouts, body parsing and
 * validation per route).
 */
export function createApp(options: AppOptions): Koa<KitState> {
  const { config, logger, metrics, health } = options;
  const app = new Koa<KitState>({ proxy: config.TRUST_PROXY });
  app.silent = true;
  app.on('error', (error: unknown) => logger.error({ err: error }, 'response error'));

  const kitRoutes = [...probeRoutes(health), openApiRoute(() => document)];
  if (options.serveMetrics) kitRoutes.push(metricsRoute(metrics));
  const all = [...kitRoutes, ...options.routes];
  const { title, version, description, ...docOptions } = options.openapi;
  const document = openApiDocument(
    { title, version, ...(description ? { description } : {}) },
    all,
    docOptions,
  );

  const origins = config.CORS_ORIGINS?.split(',').map((origin) => origin.trim());
  const middleware: Middleware[] = [
    requestEnvelope({
      logger,
      observe: httpMetrics(metrics),
      log: accessLog(
        logger,
        kitRoutes.map((route) => route.path),
      ),
    }),
  ];
  if (origins?.length || options.cors) {
    const allowed = new Set(origins);
    middleware.push(
      cors({
        origin: (ctx) => (allowed.has('*') ? '*' : allowed.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
        exposeHeaders: ['X-Request-Id', 'Retry-After', 'Location'],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'traceparent'],
        maxAge: 600,
        ...options.cors,
      }) as unknown as Middleware,
    );
  }
  middleware.push(...(options.use ?? []));
  middleware.push(
    mountRoutes(all, {
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    }),
  );
  for (const m of middleware) app.use(m);
  return app;
}

function openApiRoute(document: () => unknown): Route {
  return defineRoute({
    method: 'GET',
    path: '/openapi.json',
    name: 'openapi',
    summary: 'This OpenAPI document',
    tags: ['operations'],
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handler: ({ ctx }) => {
      ctx.body = document();
      return undefined;
    },
  });
}

function metricsRoute(metrics: Metrics): Route {
  return defineRoute({
    method: 'GET',
    path: '/metrics',
    name: 'metrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    responses: { 200: { description: 'Prometheus text exposition', contentType: 'text/plain' } },
    handler: async ({ ctx }) => {
      ctx.body = await metrics.text();
      ctx.type = metrics.contentType;
      return undefined;
    },
  });
}
