import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { baseConfig, CONFIG_EXIT_CODE, ConfigError, loadConfig } from '../src/config.ts';
import { spawnFixture } from './helpers.ts';

const config = suite('config');

config('the base schema fills defaults and coerces numbers', () => {
  const loaded = loadConfig(baseConfig, { SERVICE_NAME: 'orders', PORT: '8080', METRICS_PORT: '' });
  assert.is(loaded.PORT, 8080);
  assert.is(loaded.LOG_LEVEL, 'info');
  assert.is(loaded.METRICS_PORT, undefined, 'an empty variable counts as unset');
  assert.is(loaded.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
});

config('a service extends the base schema', () => {
  const schema = baseConfig.extend({ DATABASE_URL: z.url() });
  const loaded = loadConfig(schema, { SERVICE_NAME: 'orders', DATABASE_URL: 'postgres://localhost/orders' });
  assert.is(loaded.DATABASE_URL, 'postgres://localhost/orders');
});

config('every bad or missing variable gets one line', () => {
  const schema = baseConfig.extend({ DATABASE_URL: z.url() });
  try {
    loadConfig(schema, { PORT: 'eighty', LOG_LEVEL: 'loud', OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, ConfigError);
    const lines = (error as ConfigError).lines;
    assert.is(lines.length, 5);
    assert.ok(lines.some((l) => /^config: SERVICE_NAME is required but not set$/.test(l)));
    assert.ok(lines.some((l) => /^config: DATABASE_URL is required but not set$/.test(l)));
    assert.ok(lines.some((l) => /^config: PORT is invalid: /.test(l)));
    assert.ok(lines.some((l) => /^config: LOG_LEVEL is invalid: /.test(l)));
    assert.ok(lines.some((l) => /^config: OTEL_EXPORTER_OTLP_ENDPOINT is invalid: /.test(l)));
  }
});

const process_ = suite('a misconfigured service process');

process_('refuses to start: non-zero exit, one stderr line per variable', async () => {
  const child = spawnFixture({ SERVICE_NAME: 'fixture', PORT: '99999', LOG_LEVEL: 'chatty' });
  try {
    const code = await child.exited;
    assert.is(code, CONFIG_EXIT_CODE);
    const lines = child.stderr().trim().split('\n');
    assert.equal(lines.sort(), [
      'config: GREETING is required but not set',
      expect(lines, 'LOG_LEVEL'),
      expect(lines, 'PORT'),
    ]);
    assert.match(expect(lines, 'PORT'), /^config: PORT is invalid: .*65535/);
    assert.is(child.stdout(), '', 'nothing was served or logged');
  } finally {
    child.kill();
  }
});

process_('starts with a good environment', async () => {
  const child = spawnFixture({ SERVICE_NAME: 'fixture', PORT: '0', HOST: '127.0.0.1', GREETING: 'salaam' });
  try {
    const listening = await child.waitForLog((line) => line.msg === 'listening');
    const res = await fetch(`${listening['url']}/hello`);
    assert.equal(await res.json(), { greeting: 'salaam' });
  } finally {
    child.kill();
    await child.exited;
  }
});

function expect(lines: string[], name: string): string {
  const line = lines.find((l) => l.startsWith(`config: ${name} `));
  if (!line) throw new Error(`no line for ${name} in ${lines.join(' | ')}`);
  return line;
}

config.run();
process_.run();
