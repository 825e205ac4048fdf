import { readFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ApiError } from '../src/runtime/client.ts';
import type { KubeObject } from '../src/runtime/object.ts';
import { minimalMicroservice } from './fixtures/microservices.ts';
import { startCluster, type TestCluster } from './support/cluster.ts';

const s = suite('CRD validation');
let c: TestCluster;
const NS = 'val';

s.before(async () => {
  c = await startCluster({ namespaces: [NS] });
});
s.after(async () => {
  await c.stop();
});

/** Creates the object and returns the apiserver's refusal (or fails if it was accepted). */
async function rejection(obj: KubeObject): Promise<ApiError> {
  try {
    await c.client.create(obj);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.unreachable(`${obj.kind} ${obj.metadata.name} was accepted`);
  throw new Error('unreachable');
}

const fields = (e: ApiError) => (e.status?.details?.causes ?? []).map((x) => x.field ?? '').join(' ');

const ms = (name: string, spec: Record<string, unknown>): KubeObject =>
  ({ ...minimalMicroservice(NS, name), spec: { image: 'x:1', ...spec } }) as unknown as KubeObject;

s('a valid Microservice is accepted and defaulted (probes, metrics, port, replicas)', async () => {
  const created = (await c.client.create(
    minimalMicroservice(NS, 'ok') as unknown as KubeObject,
  )) as KubeObject & {
    spec: Record<string, never>;
  };
  const spec = created.spec as Record<string, Record<string, Record<string, unknown>>>;
  assert.is(spec['port'] as unknown, 8080);
  assert.is(spec['replicas'] as unknown, 1);
  assert.is(spec['probes']?.['liveness']?.['path'], '/livez');
  assert.is(spec['probes']?.['readiness']?.['path'], '/readyz');
  assert.is(spec['metrics']?.['path'] as unknown, '/metrics');
});

s('a missing image is rejected naming spec.image', async () => {
  const e = await rejection({ ...ms('noimage', {}), spec: { port: 80 } } as unknown as KubeObject);
  assert.is(e.code, 422);
  assert.match(`${e.message} ${fields(e)}`, 'spec.image');
});

s('a port out of range is rejected naming spec.port', async () => {
  const e = await rejection(ms('badport', { port: 70000 }));
  assert.is(e.code, 422);
  assert.match(`${e.message} ${fields(e)}`, 'spec.port');
});

s('CEL: autoscaling minReplicas > maxReplicas is rejected naming the field', async () => {
  const e = await rejection(
    ms('badhpa', { autoscaling: { minReplicas: 5, maxReplicas: 2, targetCPUUtilizationPercentage: 50 } }),
  );
  assert.is(e.code, 422);
  assert.match(e.message, 'minReplicas must be less than or equal to maxReplicas');
  assert.match(`${e.message} ${fields(e)}`, 'spec.autoscaling.minReplicas');
});

s('CEL: disruption with both minAvailable and maxUnavailable is rejected', async () => {
  const e = await rejection(ms('badpdb', { disruption: { minAvailable: 1, maxUnavailable: 1 } }));
  assert.is(e.code, 422);
  assert.match(e.message, 'exactly one of minAvailable or maxUnavailable');
  assert.match(`${e.message} ${fields(e)}`, 'spec.disruption');
});

s('RedisCluster with fewer than 3 masters is rejected naming spec.masters', async () => {
  const e = await rejection({
    apiVersion: 'souk.dev/v1alpha1',
    kind: 'RedisCluster',
    metadata: { name: 'tiny', namespace: NS },
    spec: { masters: 2 },
  });
  assert.is(e.code, 422);
  assert.match(`${e.message} ${fields(e)}`, 'spec.masters');
});

s('CEL transition rule: a Topic replicationFactor cannot change', async () => {
  const t = (await c.client.create({
    apiVersion: 'souk.dev/v1alpha1',
    kind: 'Topic',
    metadata: { name: 'orders', namespace: NS },
    spec: { partitions: 3, replicationFactor: 3 },
  })) as KubeObject & { spec: Record<string, unknown> };
  try {
    await c.client.update({ ...t, spec: { ...t.spec, replicationFactor: 2 } });
    assert.unreachable('RF change accepted');
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    assert.is(e.code, 422);
    assert.match(e.message, 'replicationFactor is immutable');
    assert.match(`${e.message} ${fields(e)}`, 'spec.replicationFactor');
  }
  const grown = await c.client.update({ ...t, spec: { ...t.spec, partitions: 6 } });
  assert.is(
    (grown as KubeObject & { spec: { partitions: number } }).spec.partitions,
    6,
    'partitions may change',
  );
});

s('every sample in manifests/samples is accepted', async () => {
  for (const f of ['microservice.yaml', 'topic.yaml', 'rediscluster.yaml']) {
    const obj = parse(
      await readFile(new URL(`../../manifests/samples/${f}`, import.meta.url), 'utf8'),
    ) as KubeObject;
    obj.metadata.namespace = NS;
    obj.metadata.name = `sample-${obj.metadata.name}`;
    const created = await c.client.create(obj);
    assert.ok(created.metadata.uid, f);
  }
});

s.run();
