import type { NodeAddress, NodePool } from './node-client.ts';

/** Makes a node (an empty master, or a replica of another master) a replica of `masterId`. */
export async function replicateFrom(pool: NodePool, address: NodeAddress, masterId: string): Promise<void> {
  await pool.call(address, 'CLUSTER', 'REPLICATE', masterId);
}
