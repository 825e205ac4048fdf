import type { NodeAddress, NodePool } from './node-client.ts';
import type { SlotRange } from './slots.ts';

/** Gives unowned slots to a master: at bootstrap, or after a master was lost with every copy. */
export async function assignSlots(
  pool: NodePool,
  address: NodeAddress,
  ranges: readonly SlotRange[],
): Promise<void> {
  if (ranges.length === 0) return;
  await pool.call(address, 'CLUSTER', 'ADDSLOTSRANGE', ...ranges.flat());
}
