import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import { PartitionBuffer } from '../src/events/partition-buffer.ts';

const test = suite('partition buffer');

test('one drain at a time; what arrives during a turn is taken together by the next, in order', async () => {
  const buffer = new PartitionBuffer<number>();
  const turns: number[][] = [];
  let inTurn = 0;
  let maxInTurn = 0;
  const turn = async (items: number[]) => {
    inTurn++;
    maxInTurn = Math.max(maxInTurn, inTurn);
    turns.push(items);
    await sleep(20);
    inTurn--;
  };
  buffer.push([1]);
  buffer.drain(100, turn, () => true);
  for (const n of [2, 3, 4]) {
    buffer.push([n]);
    buffer.drain(100, turn, () => true);
  }
  await sleep(5);
  buffer.push([5]);
  buffer.drain(100, turn, () => true);
  await buffer.idle;
  assert.deepEqual(turns, [[1], [2, 3, 4, 5]]);
  assert.equal(maxInTurn, 1);
});

test('a turn takes at most max items; requeued items come first; a stopped drain leaves the rest', async () => {
  const buffer = new PartitionBuffer<number>();
  const turns: number[][] = [];
  let requeued = false;
  buffer.push([1, 2, 3, 4, 5]);
  buffer.drain(
    2,
    async (items) => {
      turns.push(items);
      if (!requeued) {
        requeued = true;
        buffer.requeue(items.slice(1));
      }
    },
    () => turns.length < 3,
  );
  await buffer.idle;
  assert.deepEqual(turns, [
    [1, 2],
    [2, 3],
    [4, 5],
  ]);
  buffer.push([6]);
  assert.equal(buffer.size, 1);
  buffer.clear();
  assert.equal(buffer.size, 0);
});

test('a writer waiting for space is let go when a turn takes items, or after its timeout', async () => {
  const buffer = new PartitionBuffer<number>();
  buffer.push([1, 2, 3]);
  const started = performance.now();
  await buffer.waitForSpace(3, 30);
  assert.ok(performance.now() - started >= 25, 'no room and nothing taken: waits out its timeout');
  const waiting = buffer.waitForSpace(3, 5_000);
  let release: () => void = () => {};
  buffer.drain(
    10,
    () =>
      new Promise<void>((r) => {
        release = r;
      }),
    () => true,
  );
  const t = performance.now();
  await waiting;
  assert.ok(performance.now() - t < 1_000, 'let go as soon as the turn took the items');
  assert.equal(buffer.size, 0);
  release();
  await buffer.idle;
  assert.equal(
    await Promise.race([buffer.waitForSpace(3, 5_000).then(() => 'free'), sleep(50, 'blocked')]),
    'free',
  );
});

test.run();
