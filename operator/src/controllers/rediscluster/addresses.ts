import { REDIS_PORT, type RedisCluster } from '../../api/v1alpha1/rediscluster.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { podName } from './desired.ts';
import type { NodeAddress } from './node-client.ts';

export type Pod = KubeObject & {
  status?: { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] };
};

/**
 * Where the operator reaches a pod's redis-server. In a cluster that is the pod IP and the client port;
 * injectable so tests can map pods to real local redis-server processes, as a kubelet maps them to IPs.
 */
export type AddressResolver = (pod: Pod) => NodeAddress | undefined;

export const podIpAddress: AddressResolver = (pod) => {
  const ip = pod.status?.podIP;
  if (!ip) return undefined;
  return ip.includes(':') ? `[${ip}]:${REDIS_PORT}` : `${ip}:${REDIS_PORT}`;
};

export const isPodReady = (pod: Pod) =>
  !pod.metadata.deletionTimestamp &&
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

export interface PodNodes {
  /** Address of each ordinal 0..count-1, in order; complete only when `missing` is empty. */
  addresses: NodeAddress[];
  /** Pod name by address, for the status. */
  podOf: Map<NodeAddress, string>;
  /** Pods of the ordinals asked for that do not exist, are not ready or have no address yet. */
  missing: string[];
}

/** The addresses of the StatefulSet's pods 0..count-1, from the pods the cache holds. */
export function podNodes(
  rc: Pick<RedisCluster, 'metadata'>,
  count: number,
  pods: (name: string) => Pod | undefined,
  addressOf: AddressResolver,
): PodNodes {
  const addresses: NodeAddress[] = [];
  const podOf = new Map<NodeAddress, string>();
  const missing: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = podName(rc, i);
    const pod = pods(name);
    const address = pod && isPodReady(pod) ? addressOf(pod) : undefined;
    if (!address) {
      missing.push(name);
      continue;
    }
    addresses.push(address);
    podOf.set(address, name);
  }
  return { addresses, podOf, missing };
}
