import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useSuite } from '@souk/harness/suite';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const s = await useSuite('kit-redis-close');
const child = fileURLToPath(new URL('./fixtures/redis-close-child.ts', import.meta.url));

test('a cluster client closed during a slots refresh lets the process end', async () => {
  for (let round = 0; round < 2; round++) {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, REDIS_NODES: s.redisNodes.map((n) => `${n.host}:${n.port}`).join(',') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const ended = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const verdict = await Promise.race([
      ended.then((code) => `exited ${code}`),
      new Promise<string>((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000)),
    ]);
    if (proc.exitCode === null) {
      proc.kill('SIGKILL');
      await ended;
    }
    assert.match(out, /closed/, `round ${round}: the client never closed`);
    assert.is(verdict, 'exited 0', `round ${round}`);
  }
});

test.after(() => s.close());

test.run();
