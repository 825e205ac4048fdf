import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '@souk/harness/infra/ports';
import { isAlive } from '@souk/harness/infra/processes';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { prometheusConfig, queryPrometheus, startPrometheus } from '../src/prometheus.ts';

test('the config scrapes each target as its own job', () => {
  const cfg = parse(prometheusConfig([{ job: 'users', address: '127.0.0.1:1' }], 2)) as {
    global: { scrape_interval: string };
    scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
  };
  assert.is(cfg.global.scrape_interval, '2s');
  assert.equal(cfg.scrape_configs[0], {
    job_name: 'users',
    metrics_path: '/metrics',
    static_configs: [{ targets: ['127.0.0.1:1'] }],
  });
});

test('a real Prometheus scrapes a service and answers queries about it, then stops', async () => {
  let hits = 0;
  const target = http.createServer((_req, res) => {
    hits++;
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE souk_demo_total counter\nsouk_demo_total{service="users"} ${hits}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'souk-prometheus-'));
  const [port] = await freePorts(1);
  const prom = await startPrometheus({
    dir,
    port: port!,
    targets: [{ job: 'users', address: `127.0.0.1:${(target.address() as AddressInfo).port}` }],
    intervalSeconds: 1,
  });
  try {
    let result: Awaited<ReturnType<typeof queryPrometheus>> = [];
    for (let i = 0; i < 100 && result.length === 0; i++) {
      result = await queryPrometheus(prom.url, 'souk_demo_total{job="users"}');
      if (result.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.is(result.length, 1, 'scraped');
    assert.is(result[0]!.labels['service'], 'users');
    assert.ok(result[0]!.value >= 1);
    let bad: unknown;
    await queryPrometheus(prom.url, 'sum(').catch((e) => {
      bad = e;
    });
    assert.match(String(bad), /parse error/);
  } finally {
    await prom.stop();
    target.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.not.ok(isAlive(prom.ref), 'Prometheus is gone after stop()');
});

test.run();
