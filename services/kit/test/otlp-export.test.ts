import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnFixture, startUpstream } from './helpers.ts';

const otlp = suite('OTLP export');

otlp('with OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach the collector, flushed on SIGTERM', async () => {
  const received: { path: string; contentType: string; body: Buffer }[] = [];
  const collector = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type']),
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const child = spawnFixture({
    SERVICE_NAME: 'fixture',
    PORT: '0',
    HOST: '127.0.0.1',
    GREETING: 'hi',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
  });
  try {
    const listening = await child.waitForLog((line) => line.msg === 'listening');
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const res = await fetch(`${listening['url']}/hello`, {
      headers: { traceparent: `00-${traceId}-1111111111111111-01` },
    });
    assert.is(res.status, 200);
    child.process.kill('SIGTERM');
    assert.is(await child.exited, 0);

    const exports = received.filter((r) => r.path === '/v1/traces');
    assert.ok(exports.length > 0, 'the collector got a trace export');
    const all = Buffer.concat(exports.map((r) => r.body));
    const seen = all.includes(traceId) || all.includes(Buffer.from(traceId, 'hex'));
    assert.ok(seen, 'the export carries the request trace id');
    assert.ok(all.includes('GET /hello'), 'the server span is named by its route');
    assert.ok(all.includes('fixture'), 'the resource names the service');
  } finally {
    child.kill();
    await child.exited;
    await collector.close();
  }
});

otlp.run();
