import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuSecondsOfTrees, machineCpuSeconds } from '../src/bench/cpu.ts';

/** 0.4 s of CPU, however busy the machine (a wall-clock loop gets less CPU when it shares a core). */
const BURN =
  'const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; }; while (cpu() < 400000);';

test('a process tree counts its live children and the ones it reaped', async () => {
  // A parent that runs one child to the end (and reaps it), then starts another that burns and
  // waits for a line: one child is gone by the time of the reading, the other still running.
  const parent = spawn(
    process.execPath,
    [
      '-e',
      `const { spawnSync, spawn } = require('node:child_process');
       spawnSync(process.execPath, ['-e', ${JSON.stringify(BURN)}]);
       const live = spawn(process.execPath, ['-e', ${JSON.stringify(`${BURN} console.log('ready'); setInterval(() => {}, 1000);`)}], { stdio: ['ignore', 'pipe', 'inherit'] });
       live.stdout.once('data', () => console.log('both'));
       process.on('SIGTERM', () => { live.kill(); process.exit(0); });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await once(parent.stdout!, 'data');
    const { tree, parentOnly } = cpuSecondsOfTrees({ tree: [parent.pid!], parentOnly: [] });
    assert.ok(tree >= 0.8, `both children's 0.4 s of CPU are in the tree's ${tree} s`);
    assert.is(parentOnly, 0);
  } finally {
    parent.kill('SIGTERM');
    await once(parent, 'exit');
  }
});

test('the machine counts busy time within its total', () => {
  const before = machineCpuSeconds();
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if (used.user + used.system >= 300_000) break;
  }
  const after = machineCpuSeconds();
  assert.ok(after.busy - before.busy >= 0.25, `busy grew by ${after.busy - before.busy} s`);
  assert.ok(after.total - before.total >= after.busy - before.busy);
});

test.run();
