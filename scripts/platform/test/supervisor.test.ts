import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '@souk/harness/infra/ports';
import { waitFor } from '@souk/harness/infra/processes';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LocalService } from '../src/services.ts';
import { Supervisor } from '../src/supervisor.ts';

const pidOf = async (url: string) => ((await (await fetch(url)).json()) as { pid: number }).pid;

test('starts a service, restarts it when it crashes, and stops it for good', async () => {
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'souk-supervisor-'));
  const [port] = await freePorts(1);
  const service: LocalService = {
    name: 'tiny',
    dir: import.meta.dirname,
    entry: path.join(import.meta.dirname, 'fixtures', 'tiny-service.ts'),
    port: port!,
    paths: [],
  };
  const restarts: string[] = [];
  const sup = new Supervisor({
    logDir,
    env: (s) => ({ PATH: process.env['PATH'], SERVICE_NAME: s.name, PORT: String(s.port) }),
    onRestart: (r) => restarts.push(r.service.name),
  });
  try {
    const r = await sup.start(service);
    assert.ok(r.owned);
    const first = await pidOf(r.url);
    await fetch(`${r.url}/crash`).catch(() => {});
    const second = await waitFor(
      'the restarted service',
      async () => {
        const pid = await pidOf(r.url).catch(() => undefined);
        return pid !== undefined && pid !== first ? pid : undefined;
      },
      30_000,
      100,
    );
    assert.is.not(second, first);
    assert.equal(restarts, ['tiny']);

    // A second supervisor finds it answering and adopts it instead of starting another.
    const other = new Supervisor({ logDir, env: () => ({}) });
    const adopted = await other.start(service);
    assert.not.ok(adopted.owned);
    await other.stop();
    assert.is(await pidOf(r.url), second, 'stopping the adopter leaves the service running');
  } finally {
    await sup.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
  const gone = await fetch(`http://127.0.0.1:${port}/`).then(
    () => false,
    () => true,
  );
  assert.ok(gone, 'nothing answers after stop()');
});

test.run();
