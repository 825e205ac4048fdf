import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from '../src/runtime/ratelimiter.ts';
import { WorkQueue } from '../src/runtime/workqueue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const q = suite('workqueue');

q('dedups a key added many times before it is taken', async () => {
  const wq = new WorkQueue<string>('t');
  for (let i = 0; i < 5; i++) wq.add('a');
  wq.add('b');
  wq.add('a');
  assert.is(wq.length, 2);
  assert.is(await wq.get(), 'a');
  assert.is(await wq.get(), 'b');
  assert.is(wq.length, 0);
});

q('a key re-added while processing runs again after done, never concurrently', async () => {
  const wq = new WorkQueue<string>('t');
  wq.add('a');
  const first = await wq.get();
  assert.is(first, 'a');
  wq.add('a');
  wq.add('a');
  assert.is(wq.length, 0, 'not handed out while being processed');
  let second: string | undefined;
  void wq.get().then((k) => {
    second = k;
  });
  await sleep(10);
  assert.is(second, undefined, 'a second worker does not get the key in flight');
  wq.done('a');
  await sleep(0);
  assert.is(second, 'a', 'processed again after done, once');
  wq.done('a');
  assert.is(wq.length, 0);
});

q('many workers never process the same key at once', async () => {
  const wq = new WorkQueue<string>('t');
  const inFlight = new Set<string>();
  let overlap = 0;
  let processed = 0;
  const worker = async () => {
    for (;;) {
      const k = await wq.get();
      if (k === undefined) return;
      if (inFlight.has(k)) overlap++;
      inFlight.add(k);
      await sleep(Math.random() * 3);
      inFlight.delete(k);
      processed++;
      wq.done(k);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  for (let i = 0; i < 400; i++) {
    wq.add(`k${i % 5}`);
    if (i % 20 === 0) await sleep(1);
  }
  while (wq.length > 0) await sleep(5);
  await wq.shutDown();
  await Promise.all(workers);
  assert.is(overlap, 0);
  assert.ok(processed >= 5 && processed < 400, `collapsed adds: ${processed}`);
});

q('addAfter keeps the earliest time and delivers once', async () => {
  const wq = new WorkQueue<string>('t');
  wq.addAfter('a', 200);
  wq.addAfter('a', 20);
  wq.addAfter('a', 100);
  await sleep(60);
  assert.is(wq.length, 1);
  assert.is(await wq.get(), 'a');
  wq.done('a');
  await sleep(200);
  assert.is(wq.length, 0);
});

q('shutDown wakes idle workers and waits for work in flight', async () => {
  const wq = new WorkQueue<string>('t');
  const idle = wq.get();
  wq.add('x');
  assert.is(await idle, 'x');
  let drained = false;
  const d = wq.shutDown().then(() => {
    drained = true;
  });
  assert.is(await wq.get(), undefined);
  await sleep(5);
  assert.not.ok(drained);
  wq.done('x');
  await d;
  assert.ok(drained);
});

const r = suite('rate limiting');

r('per-key exponential backoff, reset by forget', () => {
  const l = new ExponentialFailureRateLimiter<string>(5, 1000);
  assert.equal([l.when('a'), l.when('a'), l.when('a'), l.when('a')], [5, 10, 20, 40]);
  assert.is(l.when('b'), 5, 'keys back off independently');
  for (let i = 0; i < 20; i++) l.when('a');
  assert.is(l.when('a'), 1000, 'capped');
  assert.is(l.retries('a'), 25);
  l.forget('a');
  assert.is(l.when('a'), 5);
});

r('token bucket bounds the global retry rate', () => {
  const l = new BucketRateLimiter<string>(10, 3);
  assert.equal([l.when('a'), l.when('b'), l.when('c')], [0, 0, 0]);
  const d = l.when('d');
  assert.ok(d > 90 && d <= 100, `4th waits ~1/qps: ${d}`);
  assert.ok(l.when('e') > d);
});

r('the queue applies the max of both on addRateLimited', async () => {
  const wq = new WorkQueue<string>('t', new MaxOfRateLimiter(new ExponentialFailureRateLimiter(30, 1000)));
  wq.addRateLimited('a');
  assert.is(wq.length, 0, 'delayed');
  await sleep(60);
  assert.is(wq.length, 1);
  assert.is(wq.numRequeues('a'), 1);
  await wq.get();
  wq.done('a');
  wq.addRateLimited('a');
  await sleep(40);
  assert.is(wq.length, 0, 'second retry waits twice as long');
  await sleep(60);
  assert.is(wq.length, 1);
  wq.forget('a');
  assert.is(wq.numRequeues('a'), 0);
  await wq.shutDown();
});

q.run();
r.run();
