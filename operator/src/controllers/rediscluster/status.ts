import type { ConditionInput } from '../../runtime/conditions.ts';
import { isMaster, slotOwners, slotsById, type Topology } from './cluster-state.ts';
import type { NodeAddress } from './node-client.ts';
import { type DesiredCluster, type Phase, type Plan, SCALING_PHASES, type Step } from './plan.ts';
import { countSlots, formatRanges } from './slots.ts';

/** One node, shaped like the RedisCluster status's `nodes` items (the controller adds the pod name). */
export interface RedisClusterNodeStatus {
  address: NodeAddress;
  nodeId?: string;
  role: 'master' | 'replica' | 'unknown';
  /** For a replica: its master. */
  masterNodeId?: string;
  masterAddress?: NodeAddress;
  /** Number of slots owned (0 for replicas). */
  slots: number;
  /** Owned slots, `0-5460 10923` style. */
  slotRanges: string;
  reachable: boolean;
  retiring: boolean;
}

export interface RedisClusterStatusSummary {
  phase: Phase;
  nodes: RedisClusterNodeStatus[];
  /** Slots with an owner, out of 16384. */
  slotsAssigned: number;
  masters: number;
  replicas: number;
  /** `Ready` and `Scaling`, for the runtime's setConditions. */
  conditions: ConditionInput[];
  warnings: string[];
}

const REASONS: Record<Phase, string> = {
  unreachable: 'NodesUnreachable',
  heal: 'Healing',
  join: 'AddingNodes',
  converge: 'Converging',
  resume: 'ResumingMigration',
  assign: 'AssigningSlots',
  replicate: 'AssigningReplicas',
  rebalance: 'MigratingSlots',
  remove: 'RemovingNodes',
  settle: 'Settling',
  ready: 'ClusterReady',
};

export function describe(step: Step): string {
  switch (step.kind) {
    case 'wait':
      return step.reason;
    case 'forget':
      return `forget ${step.ids.length} node(s) (${step.why})`;
    case 'meet':
      return `meet ${step.nodes.map((n) => n.address).join(', ')}`;
    case 'assignSlots':
      return `assign slots ${formatRanges(step.ranges)} to ${step.address}`;
    case 'migrate':
      return `move ${step.slots.length} slot(s) ${step.from} -> ${step.to} (${step.why})`;
    case 'rollback':
      return `roll back the migration of slot ${step.slot} to ${step.owner}`;
    case 'replicate':
      return `${step.address} replicates ${step.masterAddress}`;
  }
}

/** Status for the RedisCluster resource, from what the nodes said and what is left to do. */
export function summarize(
  desired: DesiredCluster,
  topology: Topology,
  plan: Plan,
): RedisClusterStatusSummary {
  const owners = slotOwners(topology);
  const byId = slotsById(owners);
  const addressOf = new Map(topology.nodes.flatMap((n) => (n.self ? [[n.self.id, n.address] as const] : [])));
  const retiring = new Set(desired.retiring ?? []);
  const nodes = topology.nodes.map((n): RedisClusterNodeStatus => {
    const ranges = n.self ? (byId.get(n.self.id) ?? []) : [];
    const s: RedisClusterNodeStatus = {
      address: n.address,
      role: !n.self ? 'unknown' : isMaster(n.self) ? 'master' : 'replica',
      slots: countSlots(ranges),
      slotRanges: formatRanges(ranges),
      reachable: n.reachable,
      retiring: retiring.has(n.address),
    };
    if (n.self) s.nodeId = n.self.id;
    if (n.self?.masterId) {
      s.masterNodeId = n.self.masterId;
      const master = addressOf.get(n.self.masterId);
      if (master) s.masterAddress = master;
    }
    return s;
  });
  const message =
    plan.steps.length > 0 ? plan.steps.map(describe).join('; ') : 'all slots served, replicas in sync';
  const reason = REASONS[plan.phase];
  const scaling = SCALING_PHASES.has(plan.phase);
  const kept = nodes.filter((n) => !n.retiring);
  return {
    phase: plan.phase,
    nodes,
    slotsAssigned: owners.filter((o) => o !== undefined).length,
    masters: kept.filter((n) => n.role === 'master' && n.slots > 0).length,
    replicas: kept.filter((n) => n.role === 'replica').length,
    conditions: [
      { type: 'Ready', status: plan.phase === 'ready' ? 'True' : 'False', reason, message },
      {
        type: 'Scaling',
        status: scaling ? 'True' : 'False',
        reason: scaling ? reason : 'NotScaling',
        message: scaling ? message : '',
      },
    ],
    warnings: plan.warnings,
  };
}
