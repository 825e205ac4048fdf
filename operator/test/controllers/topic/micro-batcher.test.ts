import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MicroBatcher } from '../../../src/controllers/topic/micro-batcher.ts';

test('calls within the window share one batch and get their own results', async () => {
  const batches: number[][] = [];
  const b = new MicroBatcher<number, number>({
    maxBatchSize: 100,
    windowMs: 5,
    run: async (items) => {
      batches.push([...items]);
      return items.map((i) =>
        i % 2 === 0
          ? { status: 'fulfilled', value: i * 10 }
          : { status: 'rejected', reason: new Error(`odd ${i}`) },
      );
    },
  });
  const results = await Promise.allSettled([1, 2, 3, 4].map((i) => b.submit(i)));
  assert.equal(batches, [[1, 2, 3, 4]]);
  assert.equal(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['odd 1', 20, 'odd 3', 40],
  );
});

test('a full batch goes out without waiting, one batch in flight at a time', async () => {
  const batches: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const b = new MicroBatcher<number, number>({
    maxBatchSize: 3,
    windowMs: 10_000,
    run: async (items) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      batches.push([...items]);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return items.map((value) => ({ status: 'fulfilled', value }));
    },
  });
  const all = Promise.all([1, 2, 3, 4, 5, 6].map((i) => b.submit(i)));
  assert.equal(await all, [1, 2, 3, 4, 5, 6]);
  assert.equal(batches, [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.is(maxInFlight, 1);
});

test('a batch that throws rejects every caller in it', async () => {
  const b = new MicroBatcher<number, number>({
    maxBatchSize: 10,
    windowMs: 1,
    run: async () => {
      throw new Error('down');
    },
  });
  const results = await Promise.allSettled([b.submit(1), b.submit(2)]);
  assert.equal(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
});

test.run();
