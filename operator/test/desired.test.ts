import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Microservice } from '../src/api/v1alpha1/microservice.ts';
import { CONFIG_HASH, desired } from '../src/controllers/microservice/desired.ts';
import { APPLIED_HASH } from '../src/runtime/apply.ts';
import { fullMicroservice } from './fixtures/microservices.ts';
import { assertGolden } from './golden.ts';

/** What the apiserver's defaulting makes of the fixture (the pure function sees defaulted objects). */
function defaulted(ms: Microservice): Microservice {
  const probe = (path: string) => ({ path, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 });
  return {
    ...ms,
    metadata: { ...ms.metadata, uid: '00000000-0000-0000-0000-000000000001', generation: 1 },
    spec: {
      ...ms.spec,
      probes: ms.spec.probes ?? { liveness: probe('/livez'), readiness: probe('/readyz') },
      metrics: ms.spec.metrics ?? { enabled: true, path: '/metrics', interval: '30s' },
    },
  };
}

const refs = {
  topics: [
    { env: 'SOUK_TOPIC_ORDERS_EVENTS', topicName: 'orders.events' },
    { env: 'PAYMENTS_TOPIC', topicName: 'payments.events' },
  ],
  kafkaBootstrap: 'kafka-0.kafka:9092,kafka-1.kafka:9092',
  redisAddress: 'cache.shop.svc:6379',
};

const d = suite('desired(ms)');

d('a full Microservice yields exactly the golden children', async () => {
  const objs = desired(defaulted(fullMicroservice('shop')), refs, { serviceMonitor: true });
  assert.equal(
    objs.map((o) => o.kind),
    [
      'ConfigMap',
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'ServiceMonitor',
    ],
  );
  await assertGolden('desired-full', objs);
});

d('every built-in child validates against the Kubernetes OpenAPI schema', () => {
  const objs = desired(defaulted(fullMicroservice('shop')), refs, { serviceMonitor: true });
  const models: Record<string, new (o: never) => { validate(): void }> = {
    ConfigMap,
    Service,
    Deployment,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
  };
  for (const o of objs) {
    const M = models[o.kind];
    if (!M) continue;
    new M(structuredClone(o) as never).validate();
  }
});

d('no ServiceMonitor when the CRD is not served; no HPA/PDB when not asked for', () => {
  const ms = defaulted(fullMicroservice('shop'));
  delete ms.spec.autoscaling;
  delete ms.spec.disruption;
  const objs = desired(ms, refs, { serviceMonitor: false });
  assert.equal(
    objs.map((o) => o.kind),
    ['ConfigMap', 'Deployment', 'Service'],
  );
  const dep = objs[1] as unknown as { spec: { replicas?: number } };
  assert.is(dep.spec.replicas, 2, 'without autoscaling the Deployment states replicas');
});

d('with autoscaling the Deployment leaves replicas to the HPA', () => {
  const objs = desired(defaulted(fullMicroservice('shop')), refs, { serviceMonitor: false });
  const dep = objs.find((o) => o.kind === 'Deployment') as unknown as { spec: Record<string, unknown> };
  assert.not.ok('replicas' in dep.spec);
});

d('a config change changes the pod template hash, nothing else in the template', () => {
  const a = defaulted(fullMicroservice('shop'));
  const b = defaulted(fullMicroservice('shop'));
  b.spec.config = { ...b.spec.config, CURRENCY: 'USD' };
  const tpl = (ms: Microservice) =>
    (desired(ms, refs, { serviceMonitor: false }).find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
      metadata: { annotations: Record<string, string> };
    }) ?? assert.unreachable();
  const ta = tpl(a);
  const tb = tpl(b);
  assert.is.not(
    ta.spec.template.metadata.annotations[CONFIG_HASH],
    tb.spec.template.metadata.annotations[CONFIG_HASH],
  );
  assert.is.not(ta.metadata.annotations[APPLIED_HASH], tb.metadata.annotations[APPLIED_HASH]);
  const strip = (t: typeof ta) => ({
    ...t.spec.template,
    metadata: { ...t.spec.template.metadata, annotations: {} },
  });
  assert.equal(strip(ta), strip(tb));
});

d('user env overrides an injected variable of the same name, no duplicates', () => {
  const ms = defaulted(fullMicroservice('shop'));
  ms.spec.env = [{ name: 'KAFKA_BROKERS', value: 'override:9092' }];
  const dep = desired(ms, refs, { serviceMonitor: false }).find(
    (o) => o.kind === 'Deployment',
  ) as unknown as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  const env = dep.spec.template.spec.containers[0]!.env;
  const names = env.map((e) => e.name);
  assert.is(new Set(names).size, names.length);
  assert.is(env.find((e) => e.name === 'KAFKA_BROKERS')?.value, 'override:9092');
});

d.run();
