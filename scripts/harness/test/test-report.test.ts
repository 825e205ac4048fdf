import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { outcomeOf, parseUvuSummary } from '../src/test-report.ts';

const summary = (total: number, passed: number, skipped = 0) =>
  `\n  Total:     ${total}\n\u001b[32m  Passed:    ${passed}\u001b[39m\n  Skipped:   ${skipped}\n  Duration:  3.1ms\n`;

test('reads the counts of a coloured uvu summary', () => {
  assert.equal(parseUvuSummary(summary(5, 4, 1)), { total: 5, passed: 4, skipped: 1 });
  assert.is(parseUvuSummary('Error: boom\n    at x.ts:1'), null);
});

test('a clean file passes', () => {
  assert.equal(outcomeOf(0, summary(3, 3), []), { passed: 3, failed: 0, problems: [] });
});

test('failed assertions are counted', () => {
  const o = outcomeOf(1, summary(4, 1), []);
  assert.is(o.passed, 1);
  assert.is(o.failed, 3);
});

test('a crash before the summary is one failure', () => {
  const o = outcomeOf(1, 'TypeError: x is not a function', []);
  assert.is(o.failed, 1);
  assert.match(o.problems[0] ?? '', /no uvu summary/);
});

test('skipped tests, empty files and leftovers fail', () => {
  assert.is(outcomeOf(0, summary(2, 1, 1), []).failed, 1);
  assert.is(outcomeOf(0, summary(0, 0), []).failed, 1);
  const left = outcomeOf(0, summary(2, 2), ['left processes behind: 123 redis-server']);
  assert.is(left.passed, 2);
  assert.is(left.failed, 1);
});

test('a non-zero exit with all assertions passing still fails', () => {
  assert.is(outcomeOf(1, summary(2, 2), []).failed, 1);
});

test.run();
