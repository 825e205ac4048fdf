import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundle } from '@souk/build/bundle';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/runtime/object.ts';
import { minimalMicroservice } from './fixtures/microservices.ts';
import { eventually, startCluster } from './support/cluster.ts';

// What the operator image runs: the bundled main.mjs, with plain node and no node_modules.
test('the bundled operator, run by plain node, reconciles a Microservice and stops cleanly', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'souk-operator-bundle-'));
  const cluster = await startCluster({ namespaces: ['shop'] });
  let proc: ChildProcess | undefined;
  try {
    const { outputs } = await bundle(path.resolve(import.meta.dirname, '..'), out);
    const main = outputs.find((o) => o.file.endsWith('main.mjs'));
    assert.ok(main, 'main.mjs was written');
    assert.ok(statSync(main.file).size > 100_000, 'dependencies are inside the bundle');

    proc = spawn(process.execPath, [main.file], {
      // Run from the bundle's own folder, away from the repository's node_modules.
      cwd: out,
      env: {
        PATH: process.env['PATH'],
        KUBECONFIG: cluster.kubeconfigPath,
        LEADER_ELECT: 'false',
        PROBE_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await cluster.client.create(minimalMicroservice('shop', 'catalog') as unknown as KubeObject);
    const deployment = await eventually(
      () => cluster.client.get({ apiVersion: 'apps/v1', kind: 'Deployment' }, 'shop', 'catalog'),
      'the Deployment of the Microservice',
      20_000,
      50,
    );
    assert.is(deployment?.metadata.name, 'catalog');

    const exit = new Promise<number | null>((resolve) => proc?.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.is(await exit, 0, 'graceful exit on SIGTERM');
  } finally {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await cluster.stop();
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
