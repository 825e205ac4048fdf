import { setTimeout as sleep } from 'node:timers/promises';
import { isMaster, observeTopology, type Topology } from './cluster-state.ts';
import { forgetNodes, meetNodes } from './membership.ts';
import type { NodePool } from './node-client.ts';
import { type DesiredCluster, type Plan, planCluster, type Step } from './plan.ts';
import { replicateFrom } from './replication.ts';
import { assignSlots } from './slot-assignment.ts';
import { type MigrationOptions, migrateSlots, rollbackSlot } from './slot-migration.ts';
import { type RedisClusterStatusSummary, summarize } from './status.ts';

export interface ReconcileOptions {
  /** How long one call may keep working before handing back (the controller requeues). */
  budgetMs?: number;
  /** Pause between observations while the cluster settles. */
  pollMs?: number;
  migration?: MigrationOptions;
  /** Every step as it is applied, e.g. to emit a Kubernetes Event. */
  onStep?: (step: Step, plan: Plan) => void;
}

export interface ReconcileResult {
  /** True when the cluster is as desired: nothing left to do. */
  done: boolean;
  status: RedisClusterStatusSummary;
  /** The plan at the last observation: what is left. */
  plan: Plan;
  /** Steps applied during this call, in order. */
  applied: Step[];
  /** The last step failure, if the budget ran out while a step kept failing. */
  error?: string;
  /** Every risk reported on the way (e.g. slots whose keys were lost), for events and logs. */
  warnings: string[];
}

/** Applies one step. Every step is idempotent: applying it twice, or after a crash half-way, is safe. */
export async function applyStep(pool: NodePool, step: Step, topology: Topology, opts: ReconcileOptions = {}) {
  switch (step.kind) {
    case 'wait':
      return;
    case 'meet':
      return meetNodes(pool, step.via, step.nodes);
    case 'forget': {
      const r = await forgetNodes(pool, step.ids, step.on, step.reset);
      for (const a of step.reset) pool.drop(a);
      if (r.refused.length > 0) {
        throw new Error(
          `CLUSTER FORGET refused: ${r.refused.map((x) => `${x.address}: ${x.error}`).join('; ')}`,
        );
      }
      return;
    }
    case 'assignSlots':
      return assignSlots(pool, step.address, step.ranges);
    case 'replicate':
      return replicateFrom(pool, step.address, step.masterId);
    case 'migrate': {
      const masters = topology.nodes.filter((n) => n.self && isMaster(n.self)).map((n) => n.address);
      await migrateSlots(pool, step.from, step.to, step.slots, masters, opts.migration);
      return;
    }
    case 'rollback':
      await rollbackSlot(pool, step.slot, step.owner, step.others, opts.migration);
      return;
  }
}

/**
 * Drives the nodes toward `desired`: observe, plan, apply, and again, until nothing is left
 * or the budget is spent. Nothing is remembered between calls; the nodes are the state.
 */
export async function reconcileRedisCluster(
  pool: NodePool,
  desired: DesiredCluster,
  opts: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const deadline = Date.now() + (opts.budgetMs ?? 30_000);
  const pollMs = opts.pollMs ?? 100;
  const addresses = [...new Set([...desired.nodes, ...(desired.retiring ?? [])])];
  const applied: Step[] = [];
  const warnings = new Set<string>();
  let error: string | undefined;
  let previous: string | undefined;
  for (;;) {
    const topology = await observeTopology(pool, addresses);
    const plan = planCluster(desired, topology);
    for (const w of plan.warnings) warnings.add(w);
    const result = (done: boolean): ReconcileResult => {
      const status = summarize(desired, topology, plan);
      const r: ReconcileResult = { done, status, plan, applied, warnings: [...warnings] };
      if (error !== undefined) r.error = error;
      return r;
    };
    if (plan.steps.length === 0) return result(true);
    if (Date.now() >= deadline) return result(false);
    // Waiting, or the very steps just applied planned again (their effect not visible yet).
    const signature = JSON.stringify(plan.steps);
    if (plan.steps.every((s) => s.kind === 'wait') || signature === previous) {
      previous = undefined;
      await sleep(pollMs);
      continue;
    }
    previous = signature;
    try {
      for (const step of plan.steps) {
        opts.onStep?.(step, plan);
        await applyStep(pool, step, topology, opts);
        applied.push(step);
      }
      error = undefined;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      await sleep(pollMs);
    }
  }
}
