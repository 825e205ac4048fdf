import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localServices } from '../src/services.ts';

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

test.run();
