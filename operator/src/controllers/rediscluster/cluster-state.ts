import type { NodeAddress, NodePool } from './node-client.ts';
import { rangesOf, SLOT_COUNT, type SlotRange } from './slots.ts';

/** One line of `CLUSTER NODES`: what one node believes about one node (possibly itself). */
export interface NodeEntry {
  id: string;
  /** Announced IP; empty while the node does not know it (fresh node, or `noaddr`). */
  host: string;
  port: number;
  busPort: number;
  flags: string[];
  /** For a replica, the id of its master. */
  masterId: string | undefined;
  configEpoch: number;
  linkState: 'connected' | 'disconnected';
  slots: SlotRange[];
  /** Only on the `myself` line: slots this node is migrating to another node id. */
  migrating: { slot: number; to: string }[];
  /** Only on the `myself` line: slots this node is importing from another node id. */
  importing: { slot: number; from: string }[];
}

export interface ClusterInfo {
  state: 'ok' | 'fail';
  currentEpoch: number;
  knownNodes: number;
  slotsAssigned: number;
}

/** What one address answered. */
export interface NodeObservation {
  address: NodeAddress;
  reachable: boolean;
  error?: string;
  /** The node's own line: its id, role, slots and open (importing/migrating) slots. */
  self?: NodeEntry;
  /** Every line of its `CLUSTER NODES`, itself included. */
  view: NodeEntry[];
  info?: ClusterInfo;
  /** Number of keys it holds. */
  keys?: number;
  /** For a replica: whether its replication link to the master is up. */
  masterLinkUp?: boolean;
}

/** The observed topology: one observation per address, in the order the addresses were given. */
export interface Topology {
  nodes: NodeObservation[];
}

export function isMaster(e: NodeEntry): boolean {
  return e.flags.includes('master');
}

/** Failed or address-less: the entry no longer stands for a live node. */
export function isFailed(e: NodeEntry): boolean {
  return e.flags.includes('fail') || e.flags.includes('noaddr');
}

export function isUnhealthy(e: NodeEntry): boolean {
  return isFailed(e) || e.flags.includes('fail?') || e.flags.includes('handshake');
}

export function parseClusterNodes(text: string): NodeEntry[] {
  const entries: NodeEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 8) continue;
    const [id, addr, flags, master, , , epoch, link, ...slotFields] = f as [string, ...string[]];
    const at = (addr ?? '').split(',')[0] ?? '';
    const [hostPort = '', bus = ''] = at.split('@');
    const colon = hostPort.lastIndexOf(':');
    const entry: NodeEntry = {
      id,
      host: colon >= 0 ? hostPort.slice(0, colon) : '',
      port: Number(hostPort.slice(colon + 1)) || 0,
      busPort: Number(bus) || 0,
      flags: (flags ?? '').split(',').filter((x) => x !== '' && x !== 'noflags'),
      masterId: master && master !== '-' ? master : undefined,
      configEpoch: Number(epoch) || 0,
      linkState: link === 'connected' ? 'connected' : 'disconnected',
      slots: [],
      migrating: [],
      importing: [],
    };
    for (const s of slotFields) {
      const open = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/.exec(s);
      if (open) {
        const slot = Number(open[1]);
        if (open[2] === '>') entry.migrating.push({ slot, to: open[3] as string });
        else entry.importing.push({ slot, from: open[3] as string });
        continue;
      }
      const [a, b] = s.split('-');
      if (a === undefined || a === '') continue;
      entry.slots.push([Number(a), Number(b ?? a)]);
    }
    entries.push(entry);
  }
  return entries;
}

function infoField(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(text);
  return m?.[1]?.trim();
}

export function parseClusterInfo(text: string): ClusterInfo {
  return {
    state: infoField(text, 'cluster_state') === 'ok' ? 'ok' : 'fail',
    currentEpoch: Number(infoField(text, 'cluster_current_epoch') ?? 0),
    knownNodes: Number(infoField(text, 'cluster_known_nodes') ?? 0),
    slotsAssigned: Number(infoField(text, 'cluster_slots_assigned') ?? 0),
  };
}

/** Reads one node: `CLUSTER NODES`, `CLUSTER INFO`, `DBSIZE`, `INFO replication`, in one round trip. */
export async function observeNode(pool: NodePool, address: NodeAddress): Promise<NodeObservation> {
  try {
    const [nodes, info, keys, repl] = await pool.pipeline(address, [
      ['CLUSTER', 'NODES'],
      ['CLUSTER', 'INFO'],
      ['DBSIZE'],
      ['INFO', 'replication'],
    ]);
    for (const r of [nodes, info, keys, repl]) if (r?.error) throw r.error;
    const view = parseClusterNodes(String(nodes?.value));
    const self = view.find((e) => e.flags.includes('myself'));
    const replText = String(repl?.value);
    const obs: NodeObservation = {
      address,
      reachable: true,
      view,
      info: parseClusterInfo(String(info?.value)),
      keys: Number(keys?.value),
    };
    if (self) obs.self = self;
    if (infoField(replText, 'role') === 'slave')
      obs.masterLinkUp = infoField(replText, 'master_link_status') === 'up';
    return obs;
  } catch (e) {
    const error = pool.connectionError(address) ?? (e instanceof Error ? e.message : String(e));
    return { address, reachable: false, error, view: [] };
  }
}

/** Reads every address in parallel. Unreachable nodes are part of the answer, not an error. */
export async function observeTopology(pool: NodePool, addresses: readonly NodeAddress[]): Promise<Topology> {
  return { nodes: await Promise.all(addresses.map((a) => observeNode(pool, a))) };
}

/**
 * The owner of every slot, as node ids (undefined = unassigned). A live node's claim on itself is
 * authoritative, the highest config epoch winning a double claim (that is how Redis settles it);
 * slots no live node claims take the owner most views agree on, e.g. a failed master.
 */
export function slotOwners(topology: Topology): (string | undefined)[] {
  const owners: (string | undefined)[] = new Array(SLOT_COUNT).fill(undefined);
  const epochs = new Array<number>(SLOT_COUNT).fill(-1);
  for (const n of topology.nodes) {
    if (!n.self || !isMaster(n.self)) continue;
    for (const [a, b] of n.self.slots) {
      for (let s = a; s <= b; s++) {
        if (n.self.configEpoch > (epochs[s] as number)) {
          owners[s] = n.self.id;
          epochs[s] = n.self.configEpoch;
        }
      }
    }
  }
  const live = new Set(topology.nodes.flatMap((n) => (n.self ? [n.self.id] : [])));
  const votes = new Map<number, Map<string, number>>();
  for (const n of topology.nodes) {
    for (const e of n.view) {
      if (live.has(e.id)) continue;
      for (const [a, b] of e.slots) {
        for (let s = a; s <= b; s++) {
          if (owners[s] !== undefined) continue;
          const v = votes.get(s) ?? new Map<string, number>();
          votes.set(s, v);
          v.set(e.id, (v.get(e.id) ?? 0) + 1);
        }
      }
    }
  }
  for (const [s, v] of votes) {
    owners[s] = [...v.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0]?.[0];
  }
  return owners;
}

/** The slots each node id owns according to `owners`, as ranges. */
export function slotsById(owners: readonly (string | undefined)[]): Map<string, SlotRange[]> {
  const byId = new Map<string, number[]>();
  owners.forEach((id, s) => {
    if (id === undefined) return;
    const list = byId.get(id) ?? [];
    byId.set(id, list);
    list.push(s);
  });
  return new Map([...byId].map(([id, list]) => [id, rangesOf(list)]));
}

/** The owners as one node's view has them, to compare views with each other. */
export function viewOwners(obs: NodeObservation): (string | undefined)[] {
  const owners: (string | undefined)[] = new Array(SLOT_COUNT).fill(undefined);
  for (const e of obs.view) for (const [a, b] of e.slots) for (let s = a; s <= b; s++) owners[s] = e.id;
  return owners;
}
