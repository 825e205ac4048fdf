import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, flushLogger, LOG_FLUSH_INTERVAL_MS, logDestination } from '../src/logger.ts';
import { spawnFixture } from './helpers.ts';

const logs = suite('buffered asynchronous log destination');

const linesOf = async (file: string) =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

logs('a lone line is written within the flush interval, without waiting for more', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kit-log-'));
  try {
    const file = join(dir, 'out.log');
    const logger = createLogger({ service: 'log-test', destination: logDestination(file) });
    logger.info({ n: 1 }, 'alone');
    const deadline = Date.now() + LOG_FLUSH_INTERVAL_MS * 10;
    let lines = await linesOf(file);
    while (lines.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      lines = await linesOf(file);
    }
    assert.is(lines.length, 1);
    assert.is(lines[0]?.['msg'], 'alone');
    assert.is(lines[0]?.['service'], 'log-test');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

logs('flushLogger writes out every buffered line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kit-log-'));
  try {
    const file = join(dir, 'out.log');
    const logger = createLogger({ service: 'log-test', destination: logDestination(file) });
    for (let n = 0; n < 1000; n++) logger.info({ n }, 'line');
    await flushLogger(logger);
    const lines = await linesOf(file);
    assert.is(lines.length, 1000);
    assert.equal(
      lines.map((line) => line['n']),
      Array.from({ length: 1000 }, (_, n) => n),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

logs('a service stopped by SIGTERM has written every access line and its last line', async () => {
  const child = spawnFixture({ SERVICE_NAME: 'fixture', PORT: '0', HOST: '127.0.0.1', GREETING: 'hi' });
  try {
    const listening = await child.waitForLog((line) => line.msg === 'listening');
    const url = String(listening['url']);
    const requests = 300;
    for (let i = 0; i < requests; i++) {
      const res = await fetch(`${url}/hello`, { headers: { 'x-request-id': `flush-${i}` } });
      assert.is(res.status, 200);
    }
    // Right away: most of these lines are still in the buffer.
    child.process.kill('SIGTERM');
    assert.is(await child.exited, 0);
    const logged = new Set(
      child
        .logs()
        .filter((line) => line.msg === 'request')
        .map((line) => line['request_id']),
    );
    for (let i = 0; i < requests; i++) assert.ok(logged.has(`flush-${i}`), `access line of flush-${i}`);
    const last = child.logs().at(-1);
    assert.is(last?.msg, 'stopped');
  } finally {
    child.kill();
    await child.exited;
  }
});

logs.run();
