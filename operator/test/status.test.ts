import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Microservice } from '../src/api/v1alpha1/microservice.ts';
import { computeStatus } from '../src/controllers/microservice/status.ts';
import type { KubeObject } from '../src/runtime/object.ts';
import { minimalMicroservice } from './fixtures/microservices.ts';

const ms = (): Microservice => {
  const m = minimalMicroservice('ns');
  m.metadata.generation = 4;
  m.spec.replicas = 3;
  return m;
};

const dep = (status: Record<string, unknown>, generation = 2, replicas = 3) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', namespace: 'ns', generation },
    spec: { replicas },
    status,
  }) as KubeObject;

const byType = (s: ReturnType<typeof computeStatus>) =>
  Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

test('rolled out and available: Ready, not Progressing', () => {
  const s = computeStatus(
    ms(),
    dep({
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
    }),
    true,
    'h',
    undefined,
  );
  assert.equal(byType(s), {
    Available: 'True/MinimumReplicasAvailable',
    Progressing: 'False/RolloutComplete',
    Ready: 'True/Ready',
  });
  assert.is(s.observedGeneration, 4);
  assert.is(s.readyReplicas, 3);
});

test('a rollout in progress (old pods left, or generation not observed) is Progressing, not Ready', () => {
  const rolling = dep({
    observedGeneration: 2,
    replicas: 4,
    updatedReplicas: 2,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
  });
  assert.equal(byType(computeStatus(ms(), rolling, true, 'h', undefined)), {
    Available: 'True/MinimumReplicasAvailable',
    Progressing: 'True/RollingOut',
    Ready: 'False/RollingOut',
  });
  const unobserved = dep({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 2);
  assert.is(byType(computeStatus(ms(), unobserved, true, 'h', undefined))['Ready'], 'False/RollingOut');
  const notCurrent = dep({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
  assert.is(
    byType(computeStatus(ms(), notCurrent, false, 'h', undefined))['Ready'],
    'False/RollingOut',
    'a Deployment that does not carry this generation yet is not Ready',
  );
});

test('a stalled rollout reports ProgressDeadlineExceeded', () => {
  const s = computeStatus(
    ms(),
    dep({
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 1,
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'late' },
      ],
    }),
    true,
    'h',
    undefined,
  );
  assert.is(byType(s)['Progressing'], 'False/ProgressDeadlineExceeded');
  assert.is(byType(s)['Ready'], 'False/ProgressDeadlineExceeded');
});

test('a blocker wins: Ready and Progressing False with its reason', () => {
  const s = computeStatus(ms(), undefined, false, 'h', { reason: 'ReferenceNotFound', message: 'Topic x' });
  assert.equal(byType(s), {
    Available: 'False/DeploymentNotFound',
    Progressing: 'False/ReferenceNotFound',
    Ready: 'False/ReferenceNotFound',
  });
});

test.run();
