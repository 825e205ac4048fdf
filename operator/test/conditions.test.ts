import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  getCondition,
  isTrue,
  isValidReason,
  setCondition,
  setConditions,
} from '../src/runtime/conditions.ts';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:05:00Z');

test('a new condition gets the transition time and observedGeneration', () => {
  const c = setCondition(
    undefined,
    { type: 'Ready', status: 'False', reason: 'Pending', message: 'x' },
    3,
    t0,
  );
  assert.equal(c, [
    {
      type: 'Ready',
      status: 'False',
      reason: 'Pending',
      message: 'x',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 3,
    },
  ]);
});

test('lastTransitionTime moves only when the status changes', () => {
  let c = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, t0);
  c = setCondition(c, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, t1);
  assert.is(c[0]?.lastTransitionTime, '2026-01-01T00:00:00Z', 'same status: time kept');
  assert.is(c[0]?.reason, 'B');
  assert.is(c[0]?.observedGeneration, 2);
  c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Ready', message: '' }, 2, t1);
  assert.is(c[0]?.lastTransitionTime, '2026-01-01T00:05:00Z', 'flip: time moves');
  assert.ok(isTrue(c, 'Ready'));
});

test('other condition types are kept, in order', () => {
  const c = setConditions(
    undefined,
    [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: '' },
      { type: 'Progressing', status: 'False', reason: 'Complete', message: '' },
      { type: 'Ready', status: 'True', reason: 'Ready', message: '' },
    ],
    1,
    t0,
  );
  const d = setCondition(
    c,
    { type: 'Progressing', status: 'True', reason: 'RollingOut', message: '' },
    2,
    t1,
  );
  assert.equal(
    d.map((x) => x.type),
    ['Available', 'Progressing', 'Ready'],
  );
  assert.is(getCondition(d, 'Available')?.observedGeneration, 1);
  assert.is(c.length, 3);
  assert.is(getCondition(c, 'Progressing')?.status, 'False', 'input not mutated');
});

test('reasons must be CamelCase identifiers', () => {
  assert.ok(isValidReason('ReferenceNotFound'));
  assert.not.ok(isValidReason('not found'));
  assert.not.ok(isValidReason(''));
});

test.run();
