import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveClaims } from '../../../src/controllers/topic/claims.ts';

test('the oldest Topic owns a Kafka topic, the others conflict', () => {
  const verdicts = resolveClaims([
    { key: 'b/newer', topicName: 'orders.events', creationTimestamp: '2026-01-02T00:00:00Z' },
    { key: 'a/older', topicName: 'orders.events', creationTimestamp: '2026-01-01T00:00:00Z' },
    { key: 'c/alone', topicName: 'users.events', creationTimestamp: '2026-01-03T00:00:00Z' },
  ]);
  assert.equal(verdicts.get('a/older'), { owner: true });
  assert.equal(verdicts.get('b/newer'), { owner: false, ownedBy: 'a/older' });
  assert.equal(verdicts.get('c/alone'), { owner: true });
});

test('equal timestamps fall back to namespace/name so every replica agrees', () => {
  const claims = [
    { key: 'ns/zeta', topicName: 't', creationTimestamp: '2026-01-01T00:00:00Z' },
    { key: 'ns/alpha', topicName: 't', creationTimestamp: '2026-01-01T00:00:00Z' },
  ];
  assert.equal(resolveClaims(claims).get('ns/alpha'), { owner: true });
  assert.equal(resolveClaims([...claims].reverse()).get('ns/zeta'), { owner: false, ownedBy: 'ns/alpha' });
});

test.run();
