import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  Conditions,
  CountOrPercent,
  DNS_LABEL,
  Enum,
  type KindDefinition,
  type ObjectMeta,
  Opaque,
  Resources,
  readyColumn,
  reasonColumn,
  rules,
  StringMap,
} from './meta.ts';

const EnvVar = Type.Object({
  name: Type.String({ minLength: 1, pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$' }),
  value: Type.Optional(Type.String()),
  valueFrom: Type.Optional(
    Opaque({ description: 'As in a container env var (secretKeyRef, configMapKeyRef, fieldRef...).' }),
  ),
});

const EnvFromSource = Type.Object(
  {
    prefix: Type.Optional(Type.String()),
    configMapRef: Type.Optional(
      Type.Object({ name: Type.String({ minLength: 1 }), optional: Type.Optional(Type.Boolean()) }),
    ),
    secretRef: Type.Optional(
      Type.Object({ name: Type.String({ minLength: 1 }), optional: Type.Optional(Type.Boolean()) }),
    ),
  },
  rules({
    rule: 'has(self.configMapRef) != has(self.secretRef)',
    message: 'exactly one of configMapRef or secretRef must be set',
  }),
);

const Probe = (defaultPath: string) =>
  Type.Object(
    {
      path: Type.String({ pattern: '^/', default: defaultPath }),
      initialDelaySeconds: Type.Optional(Type.Integer({ minimum: 0 })),
      periodSeconds: Type.Integer({ minimum: 1, default: 10 }),
      timeoutSeconds: Type.Integer({ minimum: 1, default: 1 }),
      failureThreshold: Type.Integer({ minimum: 1, default: 3 }),
    },
    { default: {} },
  );

const Autoscaling = Type.Object(
  {
    minReplicas: Type.Integer({ minimum: 1, default: 1 }),
    maxReplicas: Type.Integer({ minimum: 1 }),
    targetCPUUtilizationPercentage: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    targetMemoryUtilizationPercentage: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    behavior: Type.Optional(
      Opaque({ description: 'HorizontalPodAutoscalerBehavior (autoscaling/v2), passed through.' }),
    ),
  },
  {
    description: 'When set, an HPA owns the replica count and spec.replicas is ignored.',
    ...rules(
      {
        rule: 'self.minReplicas <= self.maxReplicas',
        message: 'minReplicas must be less than or equal to maxReplicas',
        fieldPath: '.minReplicas',
      },
      {
        rule: 'has(self.targetCPUUtilizationPercentage) || has(self.targetMemoryUtilizationPercentage)',
        message:
          'at least one of targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage must be set',
      },
    ),
  },
);

const Disruption = Type.Object(
  {
    minAvailable: Type.Optional(
      CountOrPercent('Pods that must stay available during a voluntary disruption.'),
    ),
    maxUnavailable: Type.Optional(
      CountOrPercent('Pods that may be unavailable during a voluntary disruption.'),
    ),
  },
  {
    description: 'A PodDisruptionBudget for the pods.',
    ...rules({
      rule: 'has(self.minAvailable) != has(self.maxUnavailable)',
      message: 'exactly one of minAvailable or maxUnavailable must be set',
    }),
  },
);

const Metrics = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    path: Type.String({ pattern: '^/', default: '/metrics' }),
    port: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: 'Defaults to spec.port when the app serves metrics there.',
      }),
    ),
    interval: Type.String({ pattern: '^[0-9]+(ms|s|m|h)$', default: '30s' }),
  },
  { default: {} },
);

const LocalRef = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63, pattern: DNS_LABEL }) });

const TopicRef = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, description: 'A Topic in the same namespace.' }),
  env: Type.Optional(
    Type.String({
      pattern: '^[A-Z_][A-Z0-9_]*$',
      description: 'Env var receiving the Kafka topic name. Defaults to SOUK_TOPIC_<NAME>.',
    }),
  ),
});

export const MicroserviceSpec = Type.Object(
  {
    image: Type.String({ minLength: 1 }),
    imagePullPolicy: Type.Optional(Enum(['Always', 'IfNotPresent', 'Never'])),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8080 }),
    replicas: Type.Integer({ minimum: 0, default: 1 }),
    command: Type.Optional(Type.Array(Type.String())),
    args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(
      Type.Array(EnvVar, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
    ),
    envFrom: Type.Optional(Type.Array(EnvFromSource)),
    config: Type.Optional(
      StringMap({
        description:
          'Configuration kept in a ConfigMap and mounted as env; its hash on the pod template rolls pods out.',
        'x-kubernetes-validations': [
          {
            rule: "self.all(k, k.matches('^[-._a-zA-Z0-9]+$'))",
            message: 'config keys must consist of alphanumerics, "-", "_" or "."',
          },
        ],
      }),
    ),
    resources: Type.Optional(Resources),
    autoscaling: Type.Optional(Autoscaling),
    disruption: Type.Optional(Disruption),
    probes: Type.Object(
      {
        liveness: Probe('/livez'),
        readiness: Probe('/readyz'),
      },
      { default: {} },
    ),
    metrics: Metrics,
    topics: Type.Optional(
      Type.Array(TopicRef, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
    ),
    redisCluster: Type.Optional(LocalRef),
    serviceAccountName: Type.Optional(Type.String()),
  },
  {
    description:
      'A stateless service: Deployment, Service, ConfigMap, and optionally HPA, PDB, ServiceMonitor.',
  },
);
export type MicroserviceSpec = Static<typeof MicroserviceSpec>;

export const MicroserviceStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer()),
  replicas: Type.Optional(Type.Integer()),
  readyReplicas: Type.Optional(Type.Integer()),
  updatedReplicas: Type.Optional(Type.Integer()),
  availableReplicas: Type.Optional(Type.Integer()),
  configHash: Type.Optional(
    Type.String({ description: 'Hash of spec.config the current pod template carries.' }),
  ),
  conditions: Type.Optional(Conditions),
});
export type MicroserviceStatus = Static<typeof MicroserviceStatus>;

export interface Microservice {
  apiVersion: 'souk.dev/v1alpha1';
  kind: 'Microservice';
  metadata: ObjectMeta;
  spec: MicroserviceSpec;
  status?: MicroserviceStatus;
}

export const microservice: KindDefinition = {
  kind: 'Microservice',
  plural: 'microservices',
  singular: 'microservice',
  shortNames: ['msvc', 'ms'],
  categories: ['souk'],
  description: 'A stateless Souk service, reconciled into a Deployment and its companions.',
  spec: MicroserviceSpec,
  status: MicroserviceStatus,
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image', priority: 1 },
    { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Ready Replicas', type: 'integer', jsonPath: '.status.readyReplicas' },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
};
