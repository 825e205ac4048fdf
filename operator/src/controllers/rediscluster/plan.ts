import {
  isFailed,
  isMaster,
  isUnhealthy,
  type NodeEntry,
  type NodeObservation,
  slotOwners,
  type Topology,
  viewOwners,
} from './cluster-state.ts';
import { type NodeAddress, splitAddress } from './node-client.ts';
import { formatRanges, rangesOf, type SlotRange, slotQuotas } from './slots.ts';

/** What the RedisCluster spec asks for, in terms of node addresses. */
export interface DesiredCluster {
  /** The nodes the cluster should consist of, in ordinal order (the StatefulSet's pods 0..n-1). */
  nodes: NodeAddress[];
  /** Nodes still running that must leave the cluster: drained first, then forgotten and reset. */
  retiring?: NodeAddress[];
  masters: number;
  replicasPerMaster: number;
}

export type Step =
  /** Nothing to do but let the cluster settle (gossip, failover, a pod starting); observe again. */
  | { kind: 'wait'; reason: string }
  /** `CLUSTER FORGET` the ids on every node in `on`, then `CLUSTER RESET SOFT` the nodes in `reset`. */
  | { kind: 'forget'; ids: string[]; on: NodeAddress[]; reset: NodeAddress[]; why: 'stale' | 'removed' }
  /** `CLUSTER MEET` each node from `via`. */
  | { kind: 'meet'; via: NodeAddress; nodes: { address: NodeAddress; busPort: number }[] }
  /** `CLUSTER ADDSLOTSRANGE` on a master: slots nobody owns. */
  | { kind: 'assignSlots'; address: NodeAddress; ranges: SlotRange[] }
  /** Move slots with their keys; `resume` finishes a migration found half done. */
  | {
      kind: 'migrate';
      from: NodeAddress;
      to: NodeAddress;
      slots: number[];
      why: 'balance' | 'drain' | 'resume';
    }
  /** Close a half-done migration whose target cannot take the slot: keys go back to `owner`, states are cleared. */
  | { kind: 'rollback'; slot: number; owner: NodeAddress; others: NodeAddress[] }
  /** `CLUSTER REPLICATE` on a node. */
  | { kind: 'replicate'; address: NodeAddress; masterId: string; masterAddress: NodeAddress };

export type Phase =
  | 'unreachable'
  | 'heal'
  | 'join'
  | 'converge'
  | 'resume'
  | 'assign'
  | 'replicate'
  | 'rebalance'
  | 'remove'
  | 'settle'
  | 'ready';

export interface Plan {
  /** The phase the cluster is in: the first one that still has something to do. */
  phase: Phase;
  /** The next steps, all of `phase`; empty once the cluster is as desired. */
  steps: Step[];
  /** Risks to report (data loss), whatever the phase. */
  warnings: string[];
}

/** Phases in which the topology is being changed, as opposed to waiting for nodes or settling. */
export const SCALING_PHASES: ReadonlySet<Phase> = new Set([
  'join',
  'converge',
  'resume',
  'assign',
  'replicate',
  'rebalance',
  'remove',
]);

interface Ctx {
  desired: DesiredCluster;
  kept: NodeObservation[];
  retiring: NodeObservation[];
  live: NodeObservation[];
  byId: Map<string, NodeObservation>;
  owners: (string | undefined)[];
  warnings: string[];
}

const wait = (phase: Phase, reason: string, warnings: string[]): Plan => ({
  phase,
  steps: [{ kind: 'wait', reason }],
  warnings,
});

const self = (n: NodeObservation): NodeEntry => n.self as NodeEntry;

function ordinalOf(ctx: Ctx, n: NodeObservation): number {
  const i = ctx.desired.nodes.indexOf(n.address);
  return i >= 0 ? i : ctx.desired.nodes.length + (ctx.desired.retiring ?? []).indexOf(n.address);
}

/**
 * The next steps from the observed topology alone: no memory of earlier reconciles, so a step
 * interrupted by a crash is found again (as an open slot, an unknown node...) and finished.
 * Phases run in order and only the first one with work is returned, because each relies on the
 * ones before it having settled (e.g. migrating slots needs every node to know every other).
 */
export function planCluster(desired: DesiredCluster, topology: Topology): Plan {
  const warnings: string[] = [];
  const keptSet = new Set(desired.nodes);
  const retiringSet = new Set((desired.retiring ?? []).filter((a) => !keptSet.has(a)));
  const kept = topology.nodes.filter((n) => keptSet.has(n.address));
  const retiring = topology.nodes.filter((n) => retiringSet.has(n.address) && n.reachable && n.self);

  const down = kept.filter((n) => !n.reachable || !n.self);
  if (down.length > 0 || kept.length < keptSet.size) {
    const why = down.map((n) => `${n.address} (${n.error ?? 'cluster mode disabled'})`);
    return wait('unreachable', `nodes not reachable: ${why.join(', ') || 'not observed'}`, warnings);
  }

  const live = [...kept, ...retiring];
  const ctx: Ctx = {
    desired,
    kept,
    retiring,
    live,
    byId: new Map(live.map((n) => [self(n).id, n])),
    owners: slotOwners(topology),
    warnings,
  };
  return (
    heal(ctx) ??
    join(ctx) ??
    converge(ctx) ??
    resume(ctx) ??
    agreeOnSlots(ctx) ??
    assign(ctx) ??
    replicate(ctx) ??
    rebalance(ctx) ??
    remove(ctx) ??
    settle(ctx) ?? { phase: 'ready', steps: [], warnings }
  );
}

/** Ids some node still knows that stand for no live node: a replaced pod's old id, a deleted pod. */
function heal(ctx: Ctx): Plan | undefined {
  const liveAddresses = new Set(ctx.live.map((n) => n.address));
  const stale = new Map<string, NodeEntry>();
  for (const n of ctx.live) {
    for (const e of n.view) {
      if (ctx.byId.has(e.id) || e.flags.includes('handshake')) continue;
      // Another id answers at the address this entry claims: the pod was replaced. An address
      // that does not answer proves nothing; only the cluster's own verdict (fail) counts then.
      const replaced = e.host !== '' && liveAddresses.has(`${e.host}:${e.port}`);
      if (isFailed(e) || replaced) stale.set(e.id, e);
    }
  }
  if (stale.size === 0) return undefined;
  for (const [id, e] of stale) {
    const owned = rangesOf(ctx.owners.flatMap((o, s) => (o === id ? [s] : [])));
    if (owned.length === 0) continue;
    const replica = ctx.live.find((n) => self(n).masterId === id);
    if (replica) {
      return wait(
        'heal',
        `failed master ${id} (${e.host}:${e.port}) awaits failover to ${replica.address}`,
        ctx.warnings,
      );
    }
    ctx.warnings.push(
      `master ${id} (${e.host}:${e.port}) is gone with no replica: slots ${formatRanges(owned)} lose their keys`,
    );
  }
  return {
    phase: 'heal',
    steps: [
      {
        kind: 'forget',
        ids: [...stale.keys()].sort(),
        on: ctx.live.map((n) => n.address),
        reset: [],
        why: 'stale',
      },
    ],
    warnings: ctx.warnings,
  };
}

/** The node most of the cluster already gravitates to: others are introduced to it. */
function anchorOf(ctx: Ctx): NodeObservation {
  const known = (n: NodeObservation) => n.view.filter((e) => !isUnhealthy(e)).length;
  const slotCount = (n: NodeObservation) => self(n).slots.length;
  return [...ctx.kept].sort(
    (a, b) => known(b) - known(a) || slotCount(b) - slotCount(a) || ordinalOf(ctx, a) - ordinalOf(ctx, b),
  )[0] as NodeObservation;
}

function join(ctx: Ctx): Plan | undefined {
  const anchor = anchorOf(ctx);
  const { host: anchorHost } = splitAddress(anchor.address);
  const nodes: { address: NodeAddress; busPort: number }[] = [];
  for (const n of ctx.kept) {
    if (n === anchor) continue;
    const id = self(n).id;
    const { host, port } = splitAddress(n.address);
    const anchorKnows = anchor.view.some((e) => e.id === id || (e.port === port && e.host === host));
    const knowsAnchor = n.view.some(
      (e) => e.id === self(anchor).id || (e.port === anchor.self?.port && e.host === anchorHost),
    );
    if (!anchorKnows && !knowsAnchor)
      nodes.push({ address: n.address, busPort: self(n).busPort || port + 10000 });
  }
  if (nodes.length === 0) return undefined;
  return { phase: 'join', steps: [{ kind: 'meet', via: anchor.address, nodes }], warnings: ctx.warnings };
}

function converge(ctx: Ctx): Plan | undefined {
  for (const a of ctx.kept) {
    for (const b of ctx.kept) {
      if (a === b) continue;
      const e = a.view.find((x) => x.id === self(b).id);
      if (!e || isUnhealthy(e)) {
        const why = e ? e.flags.join(',') : 'unknown';
        return wait(
          'converge',
          `${a.address} does not see ${b.address} as a healthy member yet (${why})`,
          ctx.warnings,
        );
      }
    }
  }
  return undefined;
}

/** Slots left importing/migrating, e.g. by a crash in the middle of a migration. */
function resume(ctx: Ctx): Plan | undefined {
  const open = new Map<number, { migrating?: [NodeObservation, string]; importing: NodeObservation[] }>();
  const entry = (s: number) => {
    const o = open.get(s) ?? { importing: [] };
    open.set(s, o);
    return o;
  };
  for (const n of ctx.live) {
    for (const m of self(n).migrating) entry(m.slot).migrating = [n, m.to];
    for (const i of self(n).importing) entry(i.slot).importing.push(n);
  }
  if (open.size === 0) return undefined;
  const keptIds = new Set(ctx.kept.map((n) => self(n).id));
  const migrations = new Map<string, Step & { kind: 'migrate' }>();
  const steps: Step[] = [];
  for (const [slot, o] of [...open].sort((a, b) => a[0] - b[0])) {
    const ownerId = ctx.owners[slot];
    const owner = ownerId === undefined ? undefined : ctx.byId.get(ownerId);
    const source = o.migrating?.[0] ?? owner;
    const target = o.migrating ? ctx.byId.get(o.migrating[1]) : o.importing[0];
    if (source && target && source !== target && keptIds.has(self(target).id) && isMaster(self(target))) {
      const key = `${source.address}>${target.address}`;
      const m = migrations.get(key);
      if (m) m.slots.push(slot);
      else {
        const step: Step & { kind: 'migrate' } = {
          kind: 'migrate',
          from: source.address,
          to: target.address,
          slots: [slot],
          why: 'resume',
        };
        migrations.set(key, step);
        steps.push(step);
      }
      continue;
    }
    if (!owner)
      return wait('resume', `slot ${slot} is half migrated and its owner is not reachable`, ctx.warnings);
    if (!target) {
      ctx.warnings.push(
        `slot ${slot} was being migrated to a node that is gone: keys already moved there are lost`,
      );
    }
    const others = [o.migrating?.[0], ...o.importing, target].filter(
      (n): n is NodeObservation => n !== undefined && n !== owner,
    );
    steps.push({
      kind: 'rollback',
      slot,
      owner: owner.address,
      others: [...new Set(others.map((n) => n.address))],
    });
  }
  return { phase: 'resume', steps, warnings: ctx.warnings };
}

function agreeOnSlots(ctx: Ctx): Plan | undefined {
  for (const n of ctx.kept) {
    const theirs = viewOwners(n);
    for (let s = 0; s < theirs.length; s++) {
      if (theirs[s] !== ctx.owners[s]) {
        return wait('converge', `${n.address} does not agree on the owner of slot ${s} yet`, ctx.warnings);
      }
    }
  }
  return undefined;
}

interface Targets {
  /** The masters that should own slots, in the order of their quotas. */
  masters: NodeObservation[];
  quotas: number[];
  count: Map<string, number>;
}

/**
 * Which nodes are the masters: those already owning slots first (fewest moves), then empty
 * masters in ordinal order. Retiring nodes never qualify.
 */
function targetsOf(ctx: Ctx): Targets {
  const count = new Map<string, number>();
  for (const o of ctx.owners) if (o !== undefined) count.set(o, (count.get(o) ?? 0) + 1);
  const slots = (n: NodeObservation) => count.get(self(n).id) ?? 0;
  const candidates = ctx.kept.filter((n) => isMaster(self(n)) && (slots(n) > 0 || n.keys === 0));
  const masters = candidates
    .sort((a, b) => Number(slots(b) > 0) - Number(slots(a) > 0) || ordinalOf(ctx, a) - ordinalOf(ctx, b))
    .slice(0, ctx.desired.masters)
    .sort((a, b) => slots(b) - slots(a) || ordinalOf(ctx, a) - ordinalOf(ctx, b));
  return { masters, quotas: slotQuotas(masters.length), count };
}

/** Slots are spread only over the desired number of masters; fewer candidates (all replicas) blocks. */
function tooFewMasters(ctx: Ctx, t: Targets, phase: Phase): Plan | undefined {
  if (t.masters.length >= ctx.desired.masters) return undefined;
  return wait(phase, `only ${t.masters.length} of ${ctx.desired.masters} masters available`, ctx.warnings);
}

function assign(ctx: Ctx): Plan | undefined {
  const unassigned = ctx.owners.flatMap((o, s) => (o === undefined ? [s] : []));
  if (unassigned.length === 0) return undefined;
  const t = targetsOf(ctx);
  const short = tooFewMasters(ctx, t, 'assign');
  if (short) return short;
  if (unassigned.length < ctx.owners.length) {
    ctx.warnings.push(`slots ${formatRanges(rangesOf(unassigned))} had no owner and are assigned empty`);
  }
  const give = new Map<NodeObservation, number[]>();
  let next = 0;
  t.masters.forEach((m, i) => {
    const deficit = Math.max(0, (t.quotas[i] as number) - (t.count.get(self(m).id) ?? 0));
    give.set(m, unassigned.slice(next, next + deficit));
    next += deficit;
  });
  const steps: Step[] = [...give]
    .filter(([, s]) => s.length > 0)
    .map(([m, s]) => ({ kind: 'assignSlots', address: m.address, ranges: rangesOf(s) }));
  return { phase: 'assign', steps, warnings: ctx.warnings };
}

function replicate(ctx: Ctx): Plan | undefined {
  const t = targetsOf(ctx);
  const targetIds = new Set(t.masters.map((m) => self(m).id));
  const replicas = new Map(t.masters.map((m) => [self(m).id, 0]));
  const pending: NodeObservation[] = [];
  const ordered = ctx.kept.filter((n) => !targetIds.has(self(n).id));
  ordered.sort((a, b) => ordinalOf(ctx, a) - ordinalOf(ctx, b));
  for (const n of ordered) {
    const s = self(n);
    // A master still owning slots becomes a replica only once drained (rebalance).
    if (isMaster(s) && (t.count.get(s.id) ?? 0) > 0) continue;
    if (isMaster(s) && n.keys !== 0) {
      ctx.warnings.push(`${n.address} is a master without slots holding ${n.keys} keys: left alone`);
      continue;
    }
    const current = !isMaster(s) && s.masterId !== undefined ? replicas.get(s.masterId) : undefined;
    if (current !== undefined && current < ctx.desired.replicasPerMaster) {
      replicas.set(s.masterId as string, current + 1);
    } else pending.push(n);
  }
  if (t.masters.length === 0) return undefined;
  const steps: Step[] = [];
  for (const n of pending) {
    const { host } = splitAddress(n.address);
    const best = [...t.masters].sort(
      (a, b) =>
        (replicas.get(self(a).id) as number) - (replicas.get(self(b).id) as number) ||
        Number(splitAddress(a.address).host === host) - Number(splitAddress(b.address).host === host),
    )[0] as NodeObservation;
    const id = self(best).id;
    replicas.set(id, (replicas.get(id) as number) + 1);
    if (self(n).masterId !== id || isMaster(self(n))) {
      steps.push({ kind: 'replicate', address: n.address, masterId: id, masterAddress: best.address });
    }
  }
  return steps.length > 0 ? { phase: 'replicate', steps, warnings: ctx.warnings } : undefined;
}

function rebalance(ctx: Ctx): Plan | undefined {
  const t = targetsOf(ctx);
  const short = tooFewMasters(ctx, t, 'rebalance');
  if (short) return short;
  // A master that just joined answers CLUSTERDOWN (so refuses MIGRATE) until its state turns ok.
  const notOk = ctx.kept.filter((n) => n.info?.state !== 'ok');
  const targetIds = new Set(t.masters.map((m) => self(m).id));
  const slotsOf = (id: string) => ctx.owners.flatMap((o, s) => (o === id ? [s] : []));
  // Sources: every non-target owner gives all its slots, targets above quota their highest ones.
  const giving: { from: NodeObservation; slots: number[]; why: 'drain' | 'balance' }[] = [];
  for (const id of t.count.keys()) {
    if (targetIds.has(id)) continue;
    const from = ctx.byId.get(id);
    if (!from) return wait('rebalance', `the owner ${id} of slots to drain is not reachable`, ctx.warnings);
    giving.push({ from, slots: slotsOf(id), why: 'drain' });
  }
  const deficits: [NodeObservation, number][] = [];
  t.masters.forEach((m, i) => {
    const have = t.count.get(self(m).id) ?? 0;
    const quota = t.quotas[i] as number;
    if (have > quota) giving.push({ from: m, slots: slotsOf(self(m).id).slice(quota), why: 'balance' });
    else if (have < quota) deficits.push([m, quota - have]);
  });
  if (giving.length > 0 && notOk.length > 0) {
    return wait(
      'rebalance',
      `cluster_state not ok yet on ${notOk.map((n) => n.address).join(', ')}`,
      ctx.warnings,
    );
  }
  const steps: Step[] = [];
  for (const g of giving) {
    let rest = g.slots;
    for (const d of deficits) {
      if (rest.length === 0) break;
      if (d[1] === 0) continue;
      const take = rest.slice(0, d[1]);
      rest = rest.slice(take.length);
      d[1] -= take.length;
      steps.push({ kind: 'migrate', from: g.from.address, to: d[0].address, slots: take, why: g.why });
    }
  }
  return steps.length > 0 ? { phase: 'rebalance', steps, warnings: ctx.warnings } : undefined;
}

/** Retiring nodes, drained and no longer anyone's master: forgotten everywhere, then reset. */
function remove(ctx: Ctx): Plan | undefined {
  const retiringIds = new Set(ctx.retiring.map((n) => self(n).id));
  const known = [...retiringIds].filter((id) => ctx.kept.some((n) => n.view.some((e) => e.id === id)));
  const toReset = ctx.retiring.filter((n) => n.view.length > 1);
  if (known.length === 0 && toReset.length === 0) return undefined;
  return {
    phase: 'remove',
    steps: [
      {
        kind: 'forget',
        ids: known.sort(),
        on: ctx.kept.map((n) => n.address),
        reset: toReset.map((n) => n.address),
        why: 'removed',
      },
    ],
    warnings: ctx.warnings,
  };
}

function settle(ctx: Ctx): Plan | undefined {
  const notOk = ctx.kept.filter((n) => n.info?.state !== 'ok');
  if (notOk.length > 0) {
    return wait(
      'settle',
      `cluster_state is not ok on ${notOk.map((n) => n.address).join(', ')}`,
      ctx.warnings,
    );
  }
  const syncing = ctx.kept.filter((n) => n.masterLinkUp === false);
  if (syncing.length > 0) {
    return wait(
      'settle',
      `replicas still syncing: ${syncing.map((n) => n.address).join(', ')}`,
      ctx.warnings,
    );
  }
  return undefined;
}
