import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket, WebSocketServer } from 'ws';
import { createGateway, type GatewayRoute, matchRoute } from '../src/gateway.ts';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const close = (server: http.Server) =>
  new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

test('longest prefix wins, and a prefix matches only whole path segments', () => {
  const routes: GatewayRoute[] = [
    { prefix: '/users', service: 'users', target: 'u' },
    { prefix: '/users/me/orders', service: 'orders', target: 'o' },
  ];
  assert.is(matchRoute(routes, '/users?x=1')?.service, 'users');
  assert.is(matchRoute(routes, '/users/me')?.service, 'users');
  assert.is(matchRoute(routes, '/users/me/orders/7')?.service, 'orders');
  assert.is(matchRoute(routes, '/usersx'), undefined);
  assert.is(matchRoute(routes, '/'), undefined);
});

test('requests and WebSockets reach the service owning the path; others get problems', async () => {
  const seen: string[] = [];
  const items = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} xff=${req.headers['x-forwarded-for']}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ from: 'inventory', url: req.url }));
  });
  const notifications = http.createServer();
  const wss = new WebSocketServer({ server: notifications });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  const itemsUrl = await listen(items);
  const notificationsUrl = await listen(notifications);
  const dead = http.createServer();
  const deadUrl = await listen(dead);
  await close(dead);

  const gateway = createGateway(() => [
    { prefix: '/items', service: 'inventory', target: itemsUrl },
    { prefix: '/notifications', service: 'notifications', target: notificationsUrl },
    { prefix: '/orders', service: 'orders', target: deadUrl },
  ]);
  const url = await listen(gateway);
  try {
    const r = await fetch(`${url}/items/42?sort=price`);
    assert.is(r.status, 200);
    assert.equal(await r.json(), { from: 'inventory', url: '/items/42?sort=price' });
    assert.match(seen[0] ?? '', /^GET \/items\/42\?sort=price xff=127\.0\.0\.1$/);

    const missing = await fetch(`${url}/nowhere`);
    assert.is(missing.status, 404);
    assert.is(missing.headers.get('content-type'), 'application/problem+json');

    const down = await fetch(`${url}/orders`);
    assert.is(down.status, 503);
    assert.match(((await down.json()) as { detail: string }).detail, /orders is not answering/);

    const ws = new WebSocket(`${url.replace('http', 'ws')}/notifications/stream`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hi'));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    assert.is(reply, 'echo:hi');
  } finally {
    await close(gateway);
    wss.close();
    await close(items);
    await close(notifications);
  }
});

test.run();
