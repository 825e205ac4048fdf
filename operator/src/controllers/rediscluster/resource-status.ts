import type { Condition } from '../../api/v1alpha1/meta.ts';
import type { RedisCluster, RedisClusterStatus } from '../../api/v1alpha1/rediscluster.ts';
import { type ConditionInput, setConditions } from '../../runtime/conditions.ts';
import type { NodeAddress } from './node-client.ts';
import { SCALING_PHASES } from './plan.ts';
import { SLOT_COUNT } from './slots.ts';
import type { RedisClusterStatusSummary } from './status.ts';

/** What one reconcile of a RedisCluster found out, for its status. */
export interface Progress {
  /** The nodes as observed by the cluster management; undefined when the pods were not all ready. */
  summary?: RedisClusterStatusSummary;
  /** Pod name by node address. */
  podOf: Map<NodeAddress, string>;
  /** Pods asked for that do not run ready yet. */
  missingPods: string[];
  /** The StatefulSet is being grown (pods added) or kept at its old size while nodes are drained. */
  scaling?: 'out' | 'in';
  /** The pods are ready and the cluster management is about to change the cluster (status before a long drive). */
  starting?: boolean;
  /** The last step failure of the cluster management, if any. */
  error?: string;
}

/**
 * The status subresource of a RedisCluster. The nodes are the state; the previous status is read only to
 * tell a first bootstrap (the cluster never served every slot) from a later change, which is all the
 * `Bootstrapping` reason says. With the pods not all ready, the last observed nodes stay in the status.
 */
export function resourceStatus(rc: RedisCluster, p: Progress, now = new Date()): RedisClusterStatus {
  const gen = rc.metadata.generation;
  const prev = rc.status ?? {};
  const wasServing = prev.slotsAssigned === SLOT_COUNT;
  const s = p.summary;
  const scalingReason = p.scaling === 'in' ? 'ScalingIn' : 'ScalingOut';
  let ready: ConditionInput;
  let scaling: ConditionInput;

  if (!s && p.starting) {
    const message =
      p.scaling === 'in'
        ? 'draining and removing the retiring nodes before the StatefulSet shrinks'
        : 'adding the new pods to the cluster and moving slots to them';
    ready = { type: 'Ready', status: 'False', reason: 'Scaling', message };
    scaling = { type: 'Scaling', status: 'True', reason: scalingReason, message };
  } else if (!s) {
    const message = `waiting for pods to be ready: ${p.missingPods.join(', ')}`;
    ready = { type: 'Ready', status: 'False', reason: 'PodsNotReady', message };
    scaling = p.scaling
      ? { type: 'Scaling', status: 'True', reason: scalingReason, message }
      : { type: 'Scaling', status: 'False', reason: 'NotScaling', message: '' };
  } else {
    const sr = s.conditions.find((c) => c.type === 'Ready') as ConditionInput;
    const message = p.error ? `${sr.message} (last error: ${p.error})` : sr.message;
    const changing = p.scaling !== undefined || SCALING_PHASES.has(s.phase);
    let reason: string;
    if (s.phase === 'ready' && !p.scaling) reason = 'Ready';
    else if (s.phase === 'unreachable') reason = 'NodesUnreachable';
    else if (s.phase === 'heal' || s.phase === 'resume') reason = 'Healing';
    else if (!wasServing && (s.slotsAssigned < SLOT_COUNT || !p.scaling)) reason = 'Bootstrapping';
    else if (changing) reason = 'Scaling';
    else reason = 'Healing';
    ready = { type: 'Ready', status: reason === 'Ready' ? 'True' : 'False', reason, message };
    scaling =
      changing && reason !== 'Bootstrapping'
        ? {
            type: 'Scaling',
            status: 'True',
            reason: p.scaling
              ? scalingReason
              : (s.conditions.find((c) => c.type === 'Scaling')?.reason ?? 'Scaling'),
            message,
          }
        : {
            type: 'Scaling',
            status: 'False',
            reason: reason === 'Bootstrapping' ? 'Bootstrapping' : 'NotScaling',
            message: '',
          };
  }

  const status: RedisClusterStatus = {
    observedGeneration: gen,
    conditions: setConditions(prev.conditions as Condition[] | undefined, [ready, scaling], gen, now),
  };
  if (s) {
    status.masters = s.masters;
    status.slotsAssigned = s.slotsAssigned;
    status.nodes = s.nodes.map((n) => ({
      pod: p.podOf.get(n.address) ?? n.address,
      address: n.address,
      role: n.role,
      ...(n.nodeId ? { nodeId: n.nodeId } : {}),
      ...(n.masterNodeId ? { masterNodeId: n.masterNodeId } : {}),
      slots: n.slots,
      ...(n.slotRanges ? { slotRanges: n.slotRanges } : {}),
    }));
  } else {
    if (prev.masters !== undefined) status.masters = prev.masters;
    if (prev.slotsAssigned !== undefined) status.slotsAssigned = prev.slotsAssigned;
    if (prev.nodes) status.nodes = prev.nodes;
  }
  return status;
}
