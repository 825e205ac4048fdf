/** Redis Cluster hash slots: 0..16383. */
export const SLOT_COUNT = 16384;

/** An inclusive range of slots, as CLUSTER NODES and ADDSLOTSRANGE write them. */
export type SlotRange = [start: number, end: number];

/** Sorted slot numbers to contiguous ranges. */
export function rangesOf(slots: Iterable<number>): SlotRange[] {
  const sorted = [...slots].sort((a, b) => a - b);
  const ranges: SlotRange[] = [];
  for (const s of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else if (!last || s > last[1]) ranges.push([s, s]);
  }
  return ranges;
}

export function slotsOf(ranges: readonly SlotRange[]): number[] {
  const out: number[] = [];
  for (const [a, b] of ranges) for (let s = a; s <= b; s++) out.push(s);
  return out;
}

export function countSlots(ranges: readonly SlotRange[]): number {
  return ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
}

/** `0-5460 10923` style, as CLUSTER NODES prints them. */
export function formatRanges(ranges: readonly SlotRange[]): string {
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(' ');
}

/** How many slots each of `n` masters should own: the remainder goes to the first ones. */
export function slotQuotas(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(SLOT_COUNT / n) + (i < SLOT_COUNT % n ? 1 : 0));
}
