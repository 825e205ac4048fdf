import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localRoutes, localServiceEnv, localServices } from '../src/services.ts';

test('runs the services that exist and are enabled, routed by the chart’s prefixes', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'souk-services-'));
  try {
    mkdirSync(path.join(root, 'charts', 'souk'), { recursive: true });
    writeFileSync(
      path.join(root, 'charts', 'souk', 'values.yaml'),
      'services:\n  users: { paths: [/users, /sessions] }\n  inventory: { paths: [/items] }\n  orders: { enabled: false, paths: [/orders] }\n',
    );
    for (const name of ['users', 'orders', 'payments']) {
      mkdirSync(path.join(root, 'services', name, 'src'), { recursive: true });
      writeFileSync(path.join(root, 'services', name, 'src', 'main.ts'), '');
    }
    const found = localServices(40000, root);
    // inventory has no code, orders is disabled; payments exists with no public paths.
    assert.equal(
      found.map((s) => [s.name, s.port, s.paths]),
      [
        ['users', 40000, ['/users', '/sessions']],
        ['payments', 40002, []],
      ],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a service’s environment names every service as the chart does; the gateway routes its prefixes', () => {
  const services = [
    { name: 'users', dir: '', entry: '', port: 40000, paths: ['/users', '/sessions'] },
    { name: 'orders', dir: '', entry: '', port: 40003, paths: ['/orders'] },
  ];
  const env = localServiceEnv(
    services[1]!,
    services,
    { DATABASE_URL: 'postgres://db/souk_orders' },
    {
      ADMIN_EMAIL: 'a@b.c',
    },
  );
  assert.is(env['SERVICE_NAME'], 'orders');
  assert.is(env['PORT'], '40003');
  assert.is(env['USERS_URL'], 'http://127.0.0.1:40000');
  assert.is(env['ORDERS_URL'], 'http://127.0.0.1:40003');
  assert.is(env['DATABASE_URL'], 'postgres://db/souk_orders');
  assert.is(env['ADMIN_EMAIL'], 'a@b.c');
  assert.equal(localRoutes(services), [
    { prefix: '/users', service: 'users', target: 'http://127.0.0.1:40000' },
    { prefix: '/sessions', service: 'users', target: 'http://127.0.0.1:40000' },
    { prefix: '/orders', service: 'orders', target: 'http://127.0.0.1:40003' },
  ]);
});

test.run();
