import { REDIS_PORT, type RedisCluster, redisClientService } from '../../api/v1alpha1/rediscluster.ts';
import { hashOf, setControllerReference, withAppliedHash } from '../../runtime/apply.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { childLabels } from '../labels.ts';

export const COMPONENT = 'rediscluster';
/** Selects the pods of one RedisCluster (StatefulSet, Services, PDB, the pod watch). */
export const SELECTOR_LABEL = 'souk.dev/rediscluster';
export const CONFIG_HASH = 'souk.dev/config-hash';
export const BUS_PORT = REDIS_PORT + 10000;
export const EXPORTER_IMAGE = 'oliver006/redis_exporter:v1.45.0';
export const EXPORTER_PORT = 9121;
/** uid/gid of the redis user in the official redis images. */
const REDIS_UID = 999;

export const statefulSetName = (rc: Pick<RedisCluster, 'metadata'>) => rc.metadata.name;
export const headlessServiceName = (rc: Pick<RedisCluster, 'metadata'>) => `${rc.metadata.name}-nodes`;
export const configMapName = (rc: Pick<RedisCluster, 'metadata'>) => `${rc.metadata.name}-config`;
export const podName = (rc: Pick<RedisCluster, 'metadata'>, ordinal: number) =>
  `${statefulSetName(rc)}-${ordinal}`;

/** Pods the spec asks for: every master with its replicas. */
export const wantedNodes = (rc: Pick<RedisCluster, 'spec'>) =>
  rc.spec.masters * (1 + rc.spec.replicasPerMaster);

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity ("200Mi", "1G", 1048576) in bytes, as redis.conf takes maxmemory. */
export function quantityBytes(q: string | number): number {
  if (typeof q === 'number') return Math.floor(q);
  const m = /^\+?([0-9.]+)(?:([KMGTPE]i)|([kMGTPE]?)|[eE]([+-]?[0-9]+))$/.exec(q.trim());
  if (!m) throw new Error(`not a byte quantity: "${q}"`);
  const n = Number(m[1]);
  const factor = m[2] ? BINARY[m[2]] : m[4] !== undefined ? 10 ** Number(m[4]) : DECIMAL[m[3] ?? ''];
  return Math.floor(n * (factor ?? 1));
}

/** redis.conf of every node. The node id lives with the data (cluster-config-file on the volume). */
export function redisConf(rc: RedisCluster): string {
  const c = rc.spec.config ?? { maxmemoryPolicy: 'noeviction', clusterNodeTimeoutMs: 5000 };
  const lines: [string, string | number][] = [
    ['port', REDIS_PORT],
    ['protected-mode', 'no'],
    ['dir', '/data'],
    ['cluster-enabled', 'yes'],
    ['cluster-config-file', '/data/nodes.conf'],
    ['cluster-node-timeout', c.clusterNodeTimeoutMs],
    ['appendonly', 'yes'],
    ['repl-diskless-sync', 'yes'],
    ['repl-diskless-sync-delay', 0],
    ['maxmemory-policy', c.maxmemoryPolicy],
  ];
  if (c.maxmemory !== undefined) lines.push(['maxmemory', quantityBytes(c.maxmemory)]);
  for (const [k, v] of Object.entries(c.extra ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) lines.push([k, v]);
  return `${lines.map(([k, v]) => `${k} ${v}`).join('\n')}\n`;
}

/**
 * The children of a RedisCluster as pure data: ConfigMap (redis.conf), StatefulSet, a headless Service
 * (stable pod DNS, not-ready pods included so nodes find each other while starting), the client Service,
 * and a PodDisruptionBudget unless disabled. `replicas` overrides the pod count: during a scale in the
 * StatefulSet keeps its old size until the retiring nodes are drained.
 */
export function desired(rc: RedisCluster, opts: { replicas?: number } = {}): KubeObject[] {
  const { name, namespace } = rc.metadata;
  const spec = rc.spec;
  const labels = childLabels(COMPONENT, name);
  const selector = { [SELECTOR_LABEL]: name };
  const podLabels = { ...labels, ...selector };
  const meta = (n: string) => ({ name: n, namespace, labels });
  const conf = redisConf(rc);

  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMapName(rc)),
    data: { 'redis.conf': conf },
  };

  const securityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };

  const redis = {
    name: 'redis',
    image: spec.image,
    command: ['redis-server', '/etc/redis/redis.conf'],
    // Nodes announce their pod IP: a restarted pod with a new IP is found again by its node id.
    args: ['--cluster-announce-ip', '$(POD_IP)'],
    env: [{ name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } }],
    ports: [
      { name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' },
      { name: 'bus', containerPort: BUS_PORT, protocol: 'TCP' },
    ],
    ...(spec.resources ? { resources: spec.resources } : {}),
    readinessProbe: {
      exec: { command: ['sh', '-c', 'redis-cli -p 6379 ping | grep -q PONG'] },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    livenessProbe: {
      tcpSocket: { port: 'redis' },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 6,
    },
    securityContext,
    volumeMounts: [
      { name: 'data', mountPath: '/data' },
      { name: 'config', mountPath: '/etc/redis', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };

  const exporter = {
    name: 'exporter',
    image: EXPORTER_IMAGE,
    args: ['--is-cluster'],
    env: [{ name: 'REDIS_ADDR', value: `redis://127.0.0.1:${REDIS_PORT}` }],
    ports: [{ name: 'metrics', containerPort: EXPORTER_PORT, protocol: 'TCP' }],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } },
    readinessProbe: { httpGet: { path: '/health', port: 'metrics' }, periodSeconds: 10 },
    securityContext,
  };

  const volumes: Record<string, unknown>[] = [
    { name: 'config', configMap: { name: configMapName(rc) } },
    { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
  ];
  if (!spec.storage) volumes.push({ name: 'data', emptyDir: {} });

  const statefulSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(statefulSetName(rc)),
    spec: {
      replicas: opts.replicas ?? wantedNodes(rc),
      serviceName: headlessServiceName(rc),
      // Nodes form the cluster through the operator, not by starting in order.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            [CONFIG_HASH]: hashOf(conf),
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(EXPORTER_PORT),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: REDIS_UID,
            runAsGroup: REDIS_UID,
            fsGroup: REDIS_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          terminationGracePeriodSeconds: 30,
          containers: [redis, exporter],
          volumes,
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: 'kubernetes.io/hostname',
                    labelSelector: { matchLabels: selector },
                  },
                },
              ],
            },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
          ],
        },
      },
      ...(spec.storage
        ? {
            volumeClaimTemplates: [
              {
                apiVersion: 'v1',
                kind: 'PersistentVolumeClaim',
                metadata: { name: 'data', labels: podLabels },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  resources: { requests: { storage: spec.storage.size } },
                  ...(spec.storage.storageClassName
                    ? { storageClassName: spec.storage.storageClassName }
                    : {}),
                },
              },
            ],
          }
        : {}),
    },
  };

  const headless: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(headlessServiceName(rc)),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector,
      ports: [
        { name: 'redis', port: REDIS_PORT, targetPort: 'redis', protocol: 'TCP' },
        { name: 'bus', port: BUS_PORT, targetPort: 'bus', protocol: 'TCP' },
        { name: 'metrics', port: EXPORTER_PORT, targetPort: 'metrics', protocol: 'TCP' },
      ],
    },
  };

  const client: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(redisClientService(rc)),
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis', protocol: 'TCP' }],
    },
  };

  const out: KubeObject[] = [configMap, statefulSet, headless, client];
  if (spec.pdb?.enabled !== false) {
    out.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(statefulSetName(rc)),
      spec: { selector: { matchLabels: selector }, maxUnavailable: spec.pdb?.maxUnavailable ?? 1 },
    });
  }
  for (const o of out) {
    setControllerReference(rc as unknown as KubeObject, o);
    withAppliedHash(o);
  }
  return out;
}
