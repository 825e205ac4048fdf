import { request } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnFixture } from './helpers.ts';

const shutdown = suite('graceful shutdown of a real process');

shutdown(
  'SIGTERM drains an in-flight request, runs the hooks in order, refuses new connections, exits 0',
  async () => {
    const child = spawnFixture({ SERVICE_NAME: 'fixture', PORT: '0', HOST: '127.0.0.1', GREETING: 'hi' });
    try {
      const listening = await child.waitForLog((line) => line.msg === 'listening');
      const url = String(listening['url']);
      const slow = fetch(`${url}/slow?ms=800`).then(async (res) => ({
        status: res.status,
        body: await res.json(),
      }));
      await child.waitForLog((line) => line.msg === 'slow request started');
      child.process.kill('SIGTERM');
      await child.waitForLog((line) => line.msg === 'shutting down');

      // The listening socket is closed while the slow request is still being served.
      const refused = await connect(url);
      assert.is(refused, 'ECONNREFUSED');

      const answer = await slow;
      assert.is(answer.status, 200);
      assert.equal(answer.body, { waitedMs: 800 });

      const code = await child.exited;
      assert.is(code, 0);
      const hooks = child
        .logs()
        .filter((line) => line.msg === 'hook ran')
        .map((line) => line['hook']);
      assert.equal(hooks, ['consumers', 'clients']);
      const stopped = child.logs().find((line) => line.msg === 'stopped');
      assert.is(stopped?.['drained'], true);
      assert.is(stopped?.['hooks_ok'], true);
    } finally {
      child.kill();
      await child.exited;
    }
  },
);

shutdown('SIGINT with nothing in flight exits 0 at once', async () => {
  const child = spawnFixture({ SERVICE_NAME: 'fixture', PORT: '0', HOST: '127.0.0.1', GREETING: 'hi' });
  try {
    const listening = await child.waitForLog((line) => line.msg === 'listening');
    // A keep-alive connection left idle must not hold the shutdown up.
    const res = await fetch(`${listening['url']}/hello`);
    assert.is(res.status, 200);
    child.process.kill('SIGINT');
    assert.is(await child.exited, 0);
  } finally {
    child.kill();
    await child.exited;
  }
});

function connect(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(`${url}/hello`, { agent: false }, (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

shutdown.run();
