import type { Microservice } from '../../api/v1alpha1/microservice.ts';
import { hashOf, setControllerReference, withAppliedHash } from '../../runtime/apply.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { childLabels } from '../labels.ts';

/** What the references of a Microservice resolved to; computed by the reconcile from the cache. */
export interface ResolvedRefs {
  /** Env var -> Kafka topic name, one per spec.topics entry. */
  topics: { env: string; topicName: string }[];
  kafkaBootstrap?: string;
  redisAddress?: string;
}

export interface DesiredOptions {
  /** The monitoring.coreos.com ServiceMonitor kind is served. */
  serviceMonitor: boolean;
}

export const CONFIG_HASH = 'souk.dev/config-hash';
export const SELECTOR_LABEL = 'souk.dev/microservice';

export const topicEnvName = (refName: string) =>
  `SOUK_TOPIC_${refName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
export const configMapName = (ms: Microservice) => `${ms.metadata.name}-config`;

/** Hash of spec.config: on the pod template, so a config change is a template change and rolls the pods. */
export const configHash = (ms: Microservice) => hashOf(ms.spec.config ?? {});

const METRICS_PORT_NAME = 'metrics';

/**
 * The children of a Microservice, as pure data: Deployment, Service, ConfigMap, and when asked for, an HPA,
 * a PDB and a ServiceMonitor. Each is complete for server-side apply (it states every field the operator
 * owns), carries a controller reference to the Microservice and the hash of itself.
 */
export function desired(ms: Microservice, refs: ResolvedRefs, opts: DesiredOptions): KubeObject[] {
  const { name, namespace } = ms.metadata;
  const spec = ms.spec;
  const labels = childLabels('microservice', name);
  const selector = { [SELECTOR_LABEL]: name };
  const meta = (n: string) => ({ name: n, namespace, labels });
  const metricsPort = spec.metrics.port ?? spec.port;
  const separateMetricsPort = spec.metrics.enabled && metricsPort !== spec.port;

  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMapName(ms)),
    data: { ...(spec.config ?? {}) },
  };

  const injected: { name: string; value?: string; valueFrom?: Record<string, unknown> }[] = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
    { name: 'PORT', value: String(spec.port) },
  ];
  if (refs.kafkaBootstrap) injected.push({ name: 'KAFKA_BROKERS', value: refs.kafkaBootstrap });
  for (const t of refs.topics) injected.push({ name: t.env, value: t.topicName });
  if (refs.redisAddress) injected.push({ name: 'REDIS_NODES', value: refs.redisAddress });
  const userEnv = spec.env ?? [];
  const userNames = new Set(userEnv.map((e) => e.name));
  // The user's value wins over an injected one of the same name (env is a list-map keyed by name).
  const env = [...injected.filter((e) => !userNames.has(e.name)), ...userEnv];

  const probe = (p: Microservice['spec']['probes']['liveness']) => ({
    httpGet: { path: p.path, port: 'http', scheme: 'HTTP' },
    ...(p.initialDelaySeconds !== undefined ? { initialDelaySeconds: p.initialDelaySeconds } : {}),
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    failureThreshold: p.failureThreshold,
  });

  const ports: { name: string; containerPort: number; protocol: string }[] = [
    { name: 'http', containerPort: spec.port, protocol: 'TCP' },
  ];
  if (separateMetricsPort)
    ports.push({ name: METRICS_PORT_NAME, containerPort: metricsPort, protocol: 'TCP' });

  const container: Record<string, unknown> = {
    name: 'app',
    image: spec.image,
    ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    ports,
    env,
    envFrom: [{ configMapRef: { name: configMapName(ms) } }, ...(spec.envFrom ?? [])],
    ...(spec.resources ? { resources: spec.resources } : {}),
    livenessProbe: probe(spec.probes.liveness),
    readinessProbe: probe(spec.probes.readiness),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };

  const podLabels = { ...labels, ...selector };
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name),
    spec: {
      // With autoscaling the HPA owns the replica count: not stating it leaves the field to the HPA.
      ...(spec.autoscaling ? {} : { replicas: spec.replicas }),
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            [CONFIG_HASH]: configHash(ms),
            ...(spec.metrics.enabled
              ? {
                  'prometheus.io/scrape': 'true',
                  'prometheus.io/port': String(metricsPort),
                  'prometheus.io/path': spec.metrics.path,
                }
              : {}),
          },
        },
        spec: {
          ...(spec.serviceAccountName
            ? { serviceAccountName: spec.serviceAccountName }
            : { automountServiceAccountToken: false }),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            fsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [container],
          volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }],
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
          ],
        },
      },
    },
  };

  const servicePorts: Record<string, unknown>[] = [
    { name: 'http', port: spec.port, targetPort: 'http', protocol: 'TCP' },
  ];
  if (separateMetricsPort) {
    servicePorts.push({
      name: METRICS_PORT_NAME,
      port: metricsPort,
      targetPort: METRICS_PORT_NAME,
      protocol: 'TCP',
    });
  }
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name),
    spec: { type: 'ClusterIP', selector, ports: servicePorts },
  };

  const out: KubeObject[] = [configMap, deployment, service];

  if (spec.autoscaling) {
    const a = spec.autoscaling;
    const metrics: Record<string, unknown>[] = [];
    if (a.targetCPUUtilizationPercentage !== undefined) {
      metrics.push({
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage },
        },
      });
    }
    if (a.targetMemoryUtilizationPercentage !== undefined) {
      metrics.push({
        type: 'Resource',
        resource: {
          name: 'memory',
          target: { type: 'Utilization', averageUtilization: a.targetMemoryUtilizationPercentage },
        },
      });
    }
    out.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(name),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        metrics,
        ...(a.behavior ? { behavior: a.behavior } : {}),
      },
    });
  }

  if (spec.disruption) {
    const d = spec.disruption;
    out.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(name),
      spec: {
        selector: { matchLabels: selector },
        ...(d.minAvailable !== undefined
          ? { minAvailable: d.minAvailable }
          : { maxUnavailable: d.maxUnavailable }),
      },
    });
  }

  if (spec.metrics.enabled && opts.serviceMonitor) {
    out.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta(name),
      spec: {
        selector: {
          matchLabels: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'microservice' },
        },
        endpoints: [
          {
            port: separateMetricsPort ? METRICS_PORT_NAME : 'http',
            path: spec.metrics.path,
            interval: spec.metrics.interval,
          },
        ],
      },
    });
  }

  for (const o of out) {
    setControllerReference(ms as unknown as KubeObject, o);
    withAppliedHash(o);
  }
  return out;
}
