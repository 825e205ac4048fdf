import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type NodeAddress, type NodePool, splitAddress } from './node-client.ts';

/** CLUSTER MEET only takes an IP: a DNS name (e.g. a pod's stable name) is resolved first. */
async function ipOf(host: string): Promise<string> {
  return isIP(host) ? host : (await lookup(host)).address;
}

/** Introduces nodes to the cluster through `via`; gossip then spreads them to everyone. */
export async function meetNodes(
  pool: NodePool,
  via: NodeAddress,
  nodes: readonly { address: NodeAddress; busPort: number }[],
): Promise<void> {
  for (const n of nodes) {
    const { host, port } = splitAddress(n.address);
    await pool.call(via, 'CLUSTER', 'MEET', await ipOf(host), port, n.busPort);
  }
}

export interface ForgetResult {
  /** Nodes that refused, with their reason (e.g. a replica asked to forget its own master). */
  refused: { address: NodeAddress; id: string; error: string }[];
}

/**
 * Forgets node ids on every given node at once: a forgotten id is banned for 60 s only, so
 * every node must forget it within that window or gossip brings it back. Nodes in `reset` (the
 * ones leaving) then forget the cluster themselves, so they cannot reintroduce it either.
 */
export async function forgetNodes(
  pool: NodePool,
  ids: readonly string[],
  on: readonly NodeAddress[],
  reset: readonly NodeAddress[] = [],
): Promise<ForgetResult> {
  const refused: ForgetResult['refused'] = [];
  await Promise.all(
    on.map(async (address) => {
      const results = await pool.pipeline(
        address,
        ids.map((id) => ['CLUSTER', 'FORGET', id]),
      );
      results.forEach((r, i) => {
        // Unknown node: already forgotten there. Myself: the node is one of those leaving.
        if (r.error && !/Unknown node|forget myself/i.test(r.error.message)) {
          refused.push({ address, id: ids[i] as string, error: r.error.message });
        }
      });
    }),
  );
  await Promise.all(reset.map((address) => pool.call(address, 'CLUSTER', 'RESET', 'SOFT')));
  return { refused };
}
