import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '@koa/router';
import { defineBench, httpThroughput } from '@souk/harness/bench';
import Koa from 'koa';
import { z } from 'zod';
import { baseConfig, loadConfig } from '../src/config.ts';
import { logDestination } from '../src/logger.ts';
import { defineRoute } from '../src/route.ts';
import { createService } from '../src/service.ts';

/** What the kit costs per request: the same GET route on bare Koa + @koa/router and on the kit. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bareKoa() {
  const app = new Koa();
  const router = new Router();
  router.get('/items/:id', (ctx) => {
    ctx.body = { id: Number(ctx.params['id']), name: 'tea' };
  });
  app.use(router.routes()).use(router.allowedMethods());
  const server = createServer(app.callback());
  return { url: await listen(server), stop: () => new Promise<void>((r) => server.close(() => r())) };
}

async function kit() {
  const config = loadConfig(baseConfig, { SERVICE_NAME: 'bench', HOST: '127.0.0.1', PORT: '0' });
  const service = createService({
    config,
    // Every request still writes its JSON access line; only the sink is discarded.
    logDestination: logDestination('/dev/null'),
  });
  const route = defineRoute({
    method: 'GET',
    path: '/items/:id',
    name: 'getItem',
    params: z.object({ id: z.coerce.number().int() }),
    responses: { 200: { description: 'An item', body: z.object({ id: z.number(), name: z.string() }) } },
    handler: ({ params, reply }) => reply(200, { id: params.id, name: 'tea' }),
  });
  const { url } = await service.start({ routes: [route] });
  return { url, stop: () => service.stop().then(() => undefined) };
}

export default defineBench('kit-http', async (ctx) => {
  const load = { connections: 50, seconds: 5 };
  const bare = await bareKoa();
  const koa = await httpThroughput(`${bare.url}/items/7`, load);
  await bare.stop();
  const svc = await kit();
  const withKit = await httpThroughput(`${svc.url}/items/7`, load);
  await svc.stop();
  ctx.log(`bare Koa: ${JSON.stringify(koa)}`);
  ctx.log(`kit:      ${JSON.stringify(withKit)}`);
  ctx.record({
    name: 'GET /items/:id, bare Koa + router',
    value: Math.round(koa.requestsPerSecond),
    unit: 'req/s',
  });
  ctx.record({
    name: 'GET /items/:id, kit (ids, span, metrics, access log, validation)',
    value: Math.round(withKit.requestsPerSecond),
    unit: 'req/s',
    baseline: Math.round(koa.requestsPerSecond),
    baselineName: 'bare Koa + router',
    target: 'ratio >= 0.4',
  });
});
