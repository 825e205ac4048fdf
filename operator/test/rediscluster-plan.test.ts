import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type NodeObservation,
  parseClusterNodes,
  type Topology,
} from '../src/controllers/rediscluster/cluster-state.ts';
import { type DesiredCluster, planCluster, type Step } from '../src/controllers/rediscluster/plan.ts';
import { countSlots, type SlotRange, slotsOf } from '../src/controllers/rediscluster/slots.ts';
import { summarize } from '../src/controllers/rediscluster/status.ts';

/** A node as a test describes it; CLUSTER NODES text is generated from it and parsed back. */
interface FakeNode {
  port: number;
  /** Defaults to an id derived from the port; a replaced pod gets another one. */
  id?: string;
  /** Extra flags, e.g. fail, noaddr. */
  flags?: string[];
  /** Ports of nodes missing from this node's view. */
  hides?: number[];
  master?: number;
  slots?: SlotRange[];
  migrating?: [slot: number, toPort: number][];
  importing?: [slot: number, fromPort: number][];
  /** Knows only itself. */
  fresh?: boolean;
  state?: 'ok' | 'fail';
  keys?: number;
  epoch?: number;
  unreachable?: boolean;
  /** Extra CLUSTER NODES lines this node has (stale or handshaking entries). */
  extra?: string[];
}

const idOf = (port: number) => port.toString(16).padStart(40, '0');
const addr = (port: number) => `10.0.0.1:${port}`;

function line(n: FakeNode, myself: boolean, open = false): string {
  const flags = [myself ? 'myself' : '', n.master === undefined ? 'master' : 'slave', ...(n.flags ?? [])]
    .filter(Boolean)
    .join(',');
  const slots = (n.slots ?? []).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
  if (open) {
    for (const [s, to] of n.migrating ?? []) slots.push(`[${s}->-${idOf(to)}]`);
    for (const [s, from] of n.importing ?? []) slots.push(`[${s}-<-${idOf(from)}]`);
  }
  const master = n.master === undefined ? '-' : idOf(n.master);
  return [
    n.id ?? idOf(n.port),
    `10.0.0.1:${n.port}@${n.port + 10000}`,
    flags,
    master,
    0,
    0,
    n.epoch ?? 1,
    'connected',
    ...slots,
  ].join(' ');
}

function topology(nodes: FakeNode[]): Topology {
  return {
    nodes: nodes.map((n): NodeObservation => {
      if (n.unreachable) return { address: addr(n.port), reachable: false, view: [] };
      const others = n.fresh
        ? []
        : nodes.filter((o) => o !== n && !o.fresh && !o.unreachable && !n.hides?.includes(o.port));
      const text = [line(n, true, true), ...others.map((o) => line(o, false)), ...(n.extra ?? [])].join('\n');
      const view = parseClusterNodes(text);
      const obs: NodeObservation = {
        address: addr(n.port),
        reachable: true,
        view,
        info: { state: n.state ?? 'ok', currentEpoch: 1, knownNodes: view.length, slotsAssigned: 0 },
        keys: n.keys ?? 0,
      };
      if (view[0]) obs.self = view[0];
      if (n.master !== undefined) obs.masterLinkUp = true;
      return obs;
    }),
  };
}

const desired = (ports: number[], masters = 3, retiring: number[] = []): DesiredCluster => ({
  nodes: ports.map(addr),
  retiring: retiring.map(addr),
  masters,
  replicasPerMaster: 1,
});

const kinds = (steps: Step[]) => steps.map((s) => s.kind);
const migrated = (steps: Step[]) =>
  steps.flatMap((s) => (s.kind === 'migrate' ? [[s.from, s.to, s.slots.length] as const] : []));

/** 3 masters (7000-7002) with the usual split, and replicas 7003-7005. */
const ready = (): FakeNode[] => [
  { port: 7000, slots: [[0, 5461]] },
  { port: 7001, slots: [[5462, 10922]] },
  { port: 7002, slots: [[10923, 16383]] },
  { port: 7003, master: 7000 },
  { port: 7004, master: 7001 },
  { port: 7005, master: 7002 },
];
const PORTS = [7000, 7001, 7002, 7003, 7004, 7005];

const parse = suite('rediscluster cluster-state parsing');

parse('reads ids, roles, masters, slot ranges and open slots', () => {
  const [a, b] = parseClusterNodes(
    [
      `${idOf(1)} 10.0.0.1:7000@17000,pod-0 myself,master - 0 0 3 connected 0-99 105 [106->-${idOf(2)}] [200-<-${idOf(2)}]`,
      `${idOf(2)} :0@0 slave,fail,noaddr ${idOf(1)} 10 20 3 disconnected`,
    ].join('\n'),
  );
  assert.equal(a?.host, '10.0.0.1');
  assert.equal(a?.port, 7000);
  assert.equal(a?.busPort, 17000);
  assert.equal(a?.configEpoch, 3);
  assert.equal(a?.slots, [
    [0, 99],
    [105, 105],
  ]);
  assert.equal(a?.migrating, [{ slot: 106, to: idOf(2) }]);
  assert.equal(a?.importing, [{ slot: 200, from: idOf(2) }]);
  assert.equal(b?.masterId, idOf(1));
  assert.equal(b?.flags, ['slave', 'fail', 'noaddr']);
  assert.is(b?.linkState, 'disconnected');
});

parse.run();

const boot = suite('rediscluster plan: bootstrap');

boot('fresh nodes are met through one node', () => {
  const plan = planCluster(desired(PORTS), topology(PORTS.map((port) => ({ port, fresh: true }))));
  assert.is(plan.phase, 'join');
  const [step] = plan.steps;
  assert.ok(step?.kind === 'meet');
  assert.is(step.via, addr(7000));
  assert.equal(
    step.nodes.map((n) => [n.address, n.busPort]),
    PORTS.slice(1).map((p) => [addr(p), p + 10000]),
  );
});

boot('a node that sees another only in handshake makes the plan wait', () => {
  const nodes = ready();
  (nodes[0] as FakeNode).hides = [7005];
  (nodes[0] as FakeNode).extra = [`${'f'.repeat(40)} 10.0.0.1:7005@17005 handshake - 0 0 0 connected`];
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'converge');
  assert.equal(kinds(plan.steps), ['wait']);
});

boot('once met, slots are split evenly over the first masters', () => {
  const plan = planCluster(desired(PORTS), topology(PORTS.map((port) => ({ port }))));
  assert.is(plan.phase, 'assign');
  assert.equal(plan.steps, [
    { kind: 'assignSlots', address: addr(7000), ranges: [[0, 5461]] },
    { kind: 'assignSlots', address: addr(7001), ranges: [[5462, 10922]] },
    { kind: 'assignSlots', address: addr(7002), ranges: [[10923, 16383]] },
  ]);
  assert.equal(plan.warnings, [], 'assigning a fresh cluster loses nothing');
});

boot('then every other node replicates a different master', () => {
  const nodes: FakeNode[] = ready().map((n) => ({ port: n.port, slots: n.slots ?? [] }));
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'replicate');
  assert.equal(
    plan.steps.map((s) => s.kind === 'replicate' && [s.address, s.masterAddress]),
    [
      [addr(7003), addr(7000)],
      [addr(7004), addr(7001)],
      [addr(7005), addr(7002)],
    ],
  );
});

boot('a finished cluster has nothing to do and reports Ready', () => {
  const t = topology(ready());
  const plan = planCluster(desired(PORTS), t);
  assert.is(plan.phase, 'ready');
  assert.equal(plan.steps, []);
  const status = summarize(desired(PORTS), t, plan);
  assert.is(status.slotsAssigned, 16384);
  assert.is(status.masters, 3);
  assert.is(status.replicas, 3);
  assert.equal(
    status.conditions.map((c) => [c.type, c.status]),
    [
      ['Ready', 'True'],
      ['Scaling', 'False'],
    ],
  );
  assert.is(status.nodes[3]?.masterAddress, addr(7000));
  assert.is(status.nodes[0]?.slotRanges, '0-5461');
});

boot('a node whose cluster_state is not ok keeps Ready false', () => {
  const nodes = ready();
  (nodes[4] as FakeNode).state = 'fail';
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'settle');
  assert.equal(kinds(plan.steps), ['wait']);
});

boot('an unreachable node makes the plan wait', () => {
  const nodes = ready();
  (nodes[2] as FakeNode).unreachable = true;
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'unreachable');
});

boot.run();

const scale = suite('rediscluster plan: scale out and in');
const EIGHT = [...PORTS, 7006, 7007];

scale('new nodes: the first becomes a master with a replica, then takes a quarter of the slots', () => {
  const nodes = [...ready(), { port: 7006 }, { port: 7007 }];
  let plan = planCluster(desired(EIGHT, 4), topology(nodes));
  assert.is(plan.phase, 'replicate');
  assert.equal(plan.steps, [
    { kind: 'replicate', address: addr(7007), masterId: idOf(7006), masterAddress: addr(7006) },
  ]);
  (nodes[7] as FakeNode).master = 7006;
  plan = planCluster(desired(EIGHT, 4), topology(nodes));
  assert.is(plan.phase, 'rebalance');
  const moves = migrated(plan.steps);
  assert.ok(moves.every(([, to]) => to === addr(7006)));
  assert.is(
    moves.reduce((n, [, , c]) => n + c, 0),
    4096,
  );
  // Each old master keeps exactly its new quota.
  assert.equal(
    moves.map(([from, , c]) => [from, c]),
    [
      [addr(7000), 1366],
      [addr(7001), 1365],
      [addr(7002), 1365],
    ],
  );
});

scale('waits for a new master to report cluster_state ok before moving slots to it', () => {
  const nodes: FakeNode[] = [...ready(), { port: 7006, state: 'fail' }, { port: 7007, master: 7006 }];
  const plan = planCluster(desired(EIGHT, 4), topology(nodes));
  assert.is(plan.phase, 'rebalance');
  assert.equal(kinds(plan.steps), ['wait']);
});

scale('retiring master: drained into the remaining masters up to their quotas', () => {
  const nodes: FakeNode[] = [
    { port: 7000, slots: [[0, 4095]] },
    { port: 7001, slots: [[5462, 9557]] },
    { port: 7002, slots: [[10923, 15018]] },
    { port: 7003, master: 7000 },
    { port: 7004, master: 7001 },
    { port: 7005, master: 7002 },
    {
      port: 7006,
      slots: [
        [4096, 5461],
        [9558, 10922],
        [15019, 16383],
      ],
    },
    { port: 7007, master: 7006 },
  ];
  const plan = planCluster(desired(PORTS, 3, [7006, 7007]), topology(nodes));
  assert.is(plan.phase, 'rebalance');
  const moves = migrated(plan.steps);
  assert.ok(moves.every(([from]) => from === addr(7006)));
  assert.equal(
    moves.map(([, to, c]) => [to, c]),
    [
      [addr(7000), 1366],
      [addr(7001), 1365],
      [addr(7002), 1365],
    ],
  );
  assert.ok(plan.steps.every((s) => s.kind !== 'migrate' || s.why === 'drain'));
});

scale('drained retiring nodes are forgotten by the remaining ones and reset', () => {
  const nodes: FakeNode[] = [...ready(), { port: 7006 }, { port: 7007, master: 7006 }];
  const plan = planCluster(desired(PORTS, 3, [7006, 7007]), topology(nodes));
  assert.is(plan.phase, 'remove');
  assert.equal(plan.steps, [
    {
      kind: 'forget',
      ids: [idOf(7006), idOf(7007)],
      on: PORTS.map(addr),
      reset: [addr(7006), addr(7007)],
      why: 'removed',
    },
  ]);
});

scale('a remaining replica of a retiring master is moved to a remaining master first', () => {
  const nodes: FakeNode[] = [
    ...ready().slice(0, 5),
    { port: 7005, master: 7006 },
    { port: 7006 },
    { port: 7007, master: 7002 },
  ];
  const plan = planCluster(desired(PORTS, 3, [7006, 7007]), topology(nodes));
  assert.is(plan.phase, 'replicate');
  assert.equal(plan.steps, [
    { kind: 'replicate', address: addr(7005), masterId: idOf(7002), masterAddress: addr(7002) },
  ]);
});

scale.run();

const heal = suite('rediscluster plan: heal and resume');
const NEW_ID = 'a'.repeat(40);
/** The entry other nodes keep for a node that is gone. */
const staleLine = (n: FakeNode) => line({ ...n, flags: ['fail', 'noaddr'] }, false);

heal('a replaced replica: its old id is forgotten, the new node met, then made a replica again', () => {
  const nodes = ready();
  const stale = staleLine({ port: 7005, master: 7002 });
  for (const n of nodes) n.extra = [stale];
  nodes[5] = { port: 7005, id: NEW_ID, fresh: true };
  let plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'heal');
  assert.equal(plan.steps, [
    { kind: 'forget', ids: [idOf(7005)], on: PORTS.map(addr), reset: [], why: 'stale' },
  ]);
  assert.equal(plan.warnings, []);
  for (const n of nodes) n.extra = [];
  plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'join');
  nodes[5] = { port: 7005, id: NEW_ID };
  plan = planCluster(desired(PORTS), topology(nodes));
  assert.equal(plan.steps, [
    { kind: 'replicate', address: addr(7005), masterId: idOf(7002), masterAddress: addr(7002) },
  ]);
});

heal('a failed master with a replica is left to fail over', () => {
  const nodes = ready();
  const stale = staleLine({ port: 7002, slots: [[10923, 16383]] });
  nodes[2] = { port: 7002, id: NEW_ID, fresh: true };
  for (const n of nodes) if (!n.fresh) n.extra = [stale];
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'heal');
  assert.equal(kinds(plan.steps), ['wait']);
  assert.match((plan.steps[0] as Step & { kind: 'wait' }).reason, /awaits failover to 10.0.0.1:7005/);
});

heal('a master lost with every copy: forgotten with a warning, its slots given to the new empty node', () => {
  const nodes = ready().filter((n) => n.port !== 7005);
  const stale = staleLine({ port: 7002, slots: [[10923, 16383]] });
  for (const n of nodes) n.extra = [stale];
  nodes[2] = { port: 7002, id: NEW_ID, fresh: true };
  const ports = [7000, 7001, 7002, 7003, 7004];
  let plan = planCluster(desired(ports), topology(nodes));
  assert.is(plan.phase, 'heal');
  assert.equal(kinds(plan.steps), ['forget']);
  assert.match(plan.warnings.join(), /10923-16383 lose their keys/);
  for (const n of nodes) n.extra = [];
  nodes[2] = { port: 7002, id: NEW_ID };
  plan = planCluster(desired(ports), topology(nodes));
  assert.is(plan.phase, 'assign');
  assert.equal(plan.steps, [{ kind: 'assignSlots', address: addr(7002), ranges: [[10923, 16383]] }]);
  assert.match(plan.warnings.join(), /10923-16383 had no owner/);
});

heal('a node that does not answer is forgotten only once the cluster marks it failed', () => {
  const nodes: FakeNode[] = [...ready(), { port: 7006, unreachable: true }];
  for (const n of nodes.slice(0, 6)) n.extra = [line({ port: 7006 }, false)];
  const d = desired(PORTS, 3, [7006]);
  assert.ok(!planCluster(d, topology(nodes)).steps.some((s) => s.kind === 'forget'));
  for (const n of nodes.slice(0, 6)) n.extra = [staleLine({ port: 7006 })];
  assert.equal(kinds(planCluster(d, topology(nodes)).steps), ['forget']);
});

heal('a half-migrated slot whose target is still here is finished', () => {
  const nodes = ready();
  (nodes[0] as FakeNode).migrating = [[100, 7001]];
  (nodes[1] as FakeNode).importing = [[100, 7000]];
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.is(plan.phase, 'resume');
  assert.equal(plan.steps, [
    { kind: 'migrate', from: addr(7000), to: addr(7001), slots: [100], why: 'resume' },
  ]);
});

heal('a slot left importing only (crash before MIGRATING was set) is finished too', () => {
  const nodes = ready();
  (nodes[2] as FakeNode).importing = [[5, 7000]];
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.equal(plan.steps, [
    { kind: 'migrate', from: addr(7000), to: addr(7002), slots: [5], why: 'resume' },
  ]);
});

heal('a half-migrated slot whose target is gone is rolled back, with a warning', () => {
  const nodes = ready();
  (nodes[0] as FakeNode).migrating = [[100, 7999]];
  const plan = planCluster(desired(PORTS), topology(nodes));
  assert.equal(plan.steps, [{ kind: 'rollback', slot: 100, owner: addr(7000), others: [] }]);
  assert.match(plan.warnings.join(), /slot 100 .* lost/);
});

heal('a migration towards a retiring node is rolled back, keys going home', () => {
  const nodes: FakeNode[] = [...ready(), { port: 7006 }];
  (nodes[0] as FakeNode).migrating = [[100, 7006]];
  (nodes[6] as FakeNode).importing = [[100, 7000]];
  const plan = planCluster(desired(PORTS, 3, [7006]), topology(nodes));
  assert.equal(plan.steps, [{ kind: 'rollback', slot: 100, owner: addr(7000), others: [addr(7006)] }]);
});

heal('slot helpers', () => {
  assert.is(
    countSlots([
      [0, 9],
      [20, 20],
    ]),
    11,
  );
  assert.equal(slotsOf([[3, 5]]), [3, 4, 5]);
});

heal.run();
