import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  Conditions,
  CountOrPercent,
  Enum,
  type KindDefinition,
  type ObjectMeta,
  Quantity,
  Resources,
  readyColumn,
  reasonColumn,
  rules,
  StringMap,
} from './meta.ts';

export const RedisClusterSpec = Type.Object({
  masters: Type.Integer({
    minimum: 3,
    maximum: 1000,
    default: 3,
    description: 'Redis Cluster needs at least 3 masters.',
  }),
  replicasPerMaster: Type.Integer({ minimum: 0, maximum: 5, default: 1 }),
  image: Type.String({ minLength: 1, default: 'redis:7.0' }),
  resources: Type.Optional(Resources),
  storage: Type.Optional(
    Type.Object(
      {
        size: Quantity(),
        storageClassName: Type.Optional(Type.String()),
      },
      {
        description:
          'Persistent volume per node. Immutable: StatefulSet volume claim templates cannot change.',
        ...rules({ rule: 'self == oldSelf', message: 'storage is immutable' }),
      },
    ),
  ),
  config: Type.Object(
    {
      maxmemory: Type.Optional(Quantity()),
      maxmemoryPolicy: Enum(
        [
          'noeviction',
          'allkeys-lru',
          'allkeys-lfu',
          'allkeys-random',
          'volatile-lru',
          'volatile-lfu',
          'volatile-random',
          'volatile-ttl',
        ],
        { default: 'noeviction' },
      ),
      clusterNodeTimeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
      extra: Type.Optional(StringMap({ description: 'Further redis.conf directives.' })),
    },
    { default: {} },
  ),
  pdb: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        maxUnavailable: Type.Optional(
          CountOrPercent('Nodes that may be down during a voluntary disruption.'),
        ),
      },
      {},
    ),
  ),
});
export type RedisClusterSpec = Static<typeof RedisClusterSpec>;

const RedisNode = Type.Object({
  pod: Type.String(),
  nodeId: Type.Optional(Type.String()),
  address: Type.Optional(Type.String()),
  role: Enum(['master', 'replica', 'unknown']),
  masterNodeId: Type.Optional(Type.String()),
  slots: Type.Optional(Type.Integer({ description: 'Number of slots served (masters).' })),
  slotRanges: Type.Optional(Type.String({ description: 'e.g. "0-5460".' })),
});

export const RedisClusterStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer()),
  masters: Type.Optional(Type.Integer()),
  slotsAssigned: Type.Optional(Type.Integer({ minimum: 0, maximum: 16384 })),
  nodes: Type.Optional(Type.Array(RedisNode)),
  conditions: Type.Optional(Conditions),
});
export type RedisClusterStatus = Static<typeof RedisClusterStatus>;

export interface RedisCluster {
  apiVersion: 'souk.dev/v1alpha1';
  kind: 'RedisCluster';
  metadata: ObjectMeta;
  spec: RedisClusterSpec;
  status?: RedisClusterStatus;
}

/**
 * Client address of a RedisCluster: the client Service is named after the resource.
 * Microservices get this through env; the RedisCluster controller must create the Service under this name.
 */
export const redisClientService = (rc: Pick<RedisCluster, 'metadata'>) => rc.metadata.name;
export const REDIS_PORT = 6379;
export const redisClientAddress = (rc: Pick<RedisCluster, 'metadata'>) =>
  `${redisClientService(rc)}.${rc.metadata.namespace ?? 'default'}.svc:${REDIS_PORT}`;

export const rediscluster: KindDefinition = {
  kind: 'RedisCluster',
  plural: 'redisclusters',
  singular: 'rediscluster',
  shortNames: ['redisc', 'rdc'],
  categories: ['souk'],
  description: 'A Redis Cluster (masters with replicas) managed through its nodes.',
  spec: RedisClusterSpec,
  status: RedisClusterStatus,
  printerColumns: [
    { name: 'Masters', type: 'integer', jsonPath: '.spec.masters' },
    { name: 'Replicas/Master', type: 'integer', jsonPath: '.spec.replicasPerMaster' },
    { name: 'Slots', type: 'integer', jsonPath: '.status.slotsAssigned' },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
};
