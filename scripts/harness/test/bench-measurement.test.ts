import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixedRate } from '../src/bench/load.ts';
import { checkTarget, measure } from '../src/bench/measurement.ts';
import { percentile, summarize } from '../src/bench/stats.ts';
import { suiteChart } from '../src/bench/svg-chart.ts';

test('a ratio is computed against the baseline and checked against the target', () => {
  const m = measure({
    name: 'kit hello',
    value: 20_000,
    unit: 'req/s',
    baseline: 25_000,
    target: 'ratio >= 0.7',
  });
  assert.is(m.ratio, 0.8);
  assert.is(m.pass, true);
  const slow = measure({
    name: 'kit hello',
    value: 10_000,
    unit: 'req/s',
    baseline: 25_000,
    target: 'ratio >= 0.7',
  });
  assert.is(slow.pass, false);
});

test('value targets and their operators', () => {
  assert.ok(checkTarget('value < 10', 9.99, undefined));
  assert.not.ok(checkTarget('value < 10', 10, undefined));
  assert.ok(checkTarget('value <= 10', 10, undefined));
  assert.not.ok(checkTarget('ratio > 1', 5, undefined), 'a missing ratio never passes');
  assert.throws(() => checkTarget('fast enough', 1, 1), /bad target/);
});

test('figures without a target pass and carry no ratio', () => {
  const m = measure({ name: 'login', value: 123.4567, unit: 'req/s' });
  assert.equal(m, { name: 'login', value: 123.457, unit: 'req/s', pass: true });
});

test('nearest-rank percentiles', () => {
  const sample = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.is(percentile(sample, 50), 50);
  assert.is(percentile(sample, 99), 99);
  assert.is(percentile([7], 99), 7);
  assert.equal(summarize([3, 1, 2]), { count: 3, p50: 2, p90: 3, p99: 3, max: 3 });
});

test('the chart marks a missed target and escapes names', () => {
  const svg = suiteChart('kit', [
    measure({ name: 'a<b', value: 1, unit: 'ms', target: 'value < 0.5' }),
    measure({ name: 'ok', value: 2, unit: 'req/s', baseline: 1 }),
  ]);
  assert.match(svg, /a&lt;b/);
  assert.match(svg, /#e03131/);
  assert.match(svg, /×2/);
});

test('fixed-rate latencies are never negative, even when operations start ahead of a sub-millisecond schedule', async () => {
  // 2000/s: every wait is under a millisecond, below what a timer can sleep.
  const r = await fixedRate(() => new Promise<void>((resolve) => setImmediate(resolve)), {
    rps: 2000,
    seconds: 0.5,
  });
  assert.is(r.errors, 0);
  assert.is(r.count, 1000);
  assert.ok(r.p50 >= 0 && r.p99 >= 0, `p50 ${r.p50} ms, p99 ${r.p99} ms`);
  assert.ok(Math.min(r.p50, r.p90, r.p99, r.max) >= 0);
});

test.run();
