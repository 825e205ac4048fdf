/**
 * The servers of the kit benchmark, each in a process of its own so the load generator never shares
 * their event loop: `bare` (Koa + router hello), `logged` (the same with the kit's request id,
 * security headers and access line, nothing else), `kit` (the same hello on createService), `cached`
 * (createService, GET /items/:id read through the Redis Cluster cache from Postgres).
 * Prints `{"url": ...}` once listening; stops on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '@koa/router';
import Koa from 'koa';
import pg from 'pg';
import { z } from 'zod';
import { accessLog } from '../src/access-log.ts';
import { Cache } from '../src/cache/cache.ts';
import { baseConfig, loadConfig } from '../src/config.ts';
import type { KitContext } from '../src/context.ts';
import { createLogger, logDestination } from '../src/logger.ts';
import { closeRedisCluster, createRedisCluster, redisReady } from '../src/redis.ts';
import { REQUEST_ID_HEADER, requestIdOf } from '../src/request-id.ts';
import { defineRoute, type Route } from '../src/route.ts';
import { setSecurityHeaders } from '../src/security-headers.ts';
import { createService } from '../src/service.ts';

const mode = process.argv[2];
const Hello = z.object({ hello: z.string() });

/**
 * Bare Koa, or with `logged` only what the kit must add to every answer whatever else it does: the
 * request id, the security headers and the access line (the kit's own, through the same sink).
 */
async function bare(logged = false): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = new Koa();
  const router = new Router();
  if (logged) {
    const log = accessLog(createLogger({ service: 'kit-bench', destination: logDestination('/dev/null') }));
    app.use(async (ctx, next) => {
      const started = performance.now();
      const id = requestIdOf(ctx.req.headers['x-request-id']);
      ctx.state = { requestId: id };
      ctx.res.setHeader(REQUEST_ID_HEADER, id);
      setSecurityHeaders(ctx.res);
      await next();
      log(ctx as unknown as KitContext, '/hello', performance.now() - started);
    });
  }
  router.get('/hello', (ctx) => {
    ctx.body = { hello: 'world' };
  });
  app.use(router.routes());
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => server.close(() => r())) };
}

async function kit(routes: () => Promise<{ routes: Route[]; close: () => Promise<void> }>) {
  const config = loadConfig(baseConfig, { SERVICE_NAME: 'kit-bench', HOST: '127.0.0.1', PORT: '0' });
  // Every request still writes its JSON access line, through the sink services log to; only where
  // the lines end up differs (/dev/null rather than stdout, which this process uses to talk to the bench).
  const service = createService({
    config,
    logDestination: logDestination('/dev/null'),
  });
  const built = await routes();
  service.shutdown.register('bench', built.close, { phase: 'clients' });
  const { url } = await service.start({ routes: built.routes });
  return { url, stop: () => service.stop().then(() => undefined), service };
}

const hello = async () => ({
  routes: [
    defineRoute({
      method: 'GET',
      path: '/hello',
      name: 'hello',
      responses: { 200: { description: 'hello', body: Hello } },
      handler: () => ({ status: 200, body: { hello: 'world' } }),
    }),
  ],
  close: async () => {},
});

const Item = z.object({ id: z.number(), name: z.string(), description: z.string(), price: z.number() });

const cached = async () => {
  const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'], max: 10 });
  const redis = createRedisCluster(JSON.parse(process.env['REDIS_NODES'] ?? '[]'));
  await redisReady(redis);
  const cache = new Cache({ redis, prefix: process.env['KEY_PREFIX'] ?? 'kit-bench:', ttlMs: 600_000 });
  return {
    routes: [
      defineRoute({
        method: 'GET',
        path: '/items/:id',
        name: 'getItem',
        params: z.object({ id: z.coerce.number().int() }),
        responses: { 200: { description: 'An item', body: Item }, 404: { description: 'No such item' } },
        handler: async ({ params }) => {
          const item = await cache.get(`item:${params.id}`, async () => {
            const { rows } = await pool.query<z.infer<typeof Item>>(
              'SELECT id, name, description, price FROM items WHERE id = $1',
              [params.id],
            );
            return rows[0] ?? null;
          });
          return item ? { status: 200, body: item } : { status: 404 };
        },
      }),
    ],
    close: async () => {
      await closeRedisCluster(redis);
      await pool.end();
    },
  };
};

const server =
  mode === 'bare' || mode === 'logged'
    ? await bare(mode === 'logged')
    : await kit(mode === 'cached' ? cached : hello);
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => {
  server.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
