import { type NodeAddress, type NodePool, type PipelineResult, splitAddress } from './node-client.ts';

export interface MigrationOptions {
  /** Keys per MIGRATE: the source blocks while one batch is transferred, so clients wait at most that long. */
  keysPerBatch?: number;
  /** Slots open (importing/migrating) at the same time, moved together in pipelined round trips. */
  slotsPerRound?: number;
  /** MIGRATE's own I/O timeout. */
  timeoutMs?: number;
  /** Called after each round with the slots and keys moved so far. */
  onProgress?: (progress: { slots: number; keys: number }) => void;
}

export interface MigrationResult {
  slots: number;
  keys: number;
}

export async function nodeId(pool: NodePool, address: NodeAddress): Promise<string> {
  return String(await pool.call(address, 'CLUSTER', 'MYID'));
}

function check(results: PipelineResult[], tolerated?: RegExp): PipelineResult[] {
  for (const r of results) {
    if (r.error && !tolerated?.test(r.error.message)) throw r.error;
  }
  return results;
}

function migrateArgs(pool: NodePool, to: NodeAddress, timeoutMs: number, keys: string[], replace: boolean) {
  const { host, port } = splitAddress(to);
  const args: (string | number)[] = ['MIGRATE', host, port, '', 0, timeoutMs];
  if (replace) args.push('REPLACE');
  if (pool.password !== undefined) args.push('AUTH', pool.password);
  args.push('KEYS', ...keys);
  return args;
}

/**
 * Moves slots with their keys from one master to another while clients keep using them
 * (they follow ASK during the move and MOVED after it).
 *
 * Idempotent, so a migration interrupted at any point is finished by calling it again: a target
 * that already owns a slot or a source that no longer does is not an error, and keys found on
 * both sides (a MIGRATE cut off between restore and delete) are overwritten from the source,
 * which is the copy clients were still writing to.
 *
 * `others` are the remaining masters, told the new owner directly rather than waiting for gossip.
 */
export async function migrateSlots(
  pool: NodePool,
  from: NodeAddress,
  to: NodeAddress,
  slots: readonly number[],
  others: readonly NodeAddress[],
  opts: MigrationOptions = {},
): Promise<MigrationResult> {
  const keysPerBatch = opts.keysPerBatch ?? 100;
  const slotsPerRound = opts.slotsPerRound ?? 256;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const [fromId, toId] = await Promise.all([nodeId(pool, from), nodeId(pool, to)]);
  const done: MigrationResult = { slots: 0, keys: 0 };
  for (let i = 0; i < slots.length; i += slotsPerRound) {
    const round = slots.slice(i, i + slotsPerRound);
    // Target first: once the source says ASK, the target must already accept the slot.
    check(
      await pool.pipeline(
        to,
        round.map((s) => ['CLUSTER', 'SETSLOT', s, 'IMPORTING', fromId]),
      ),
      /already the owner/,
    );
    // Source: open the slots and list their keys in one round trip.
    const opened = await pool.pipeline(from, [
      ...round.map((s) => ['CLUSTER', 'SETSLOT', s, 'MIGRATING', toId]),
      ...round.map((s) => ['CLUSTER', 'GETKEYSINSLOT', s, keysPerBatch]),
    ]);
    check(opened.slice(0, round.length), /not the owner/);
    let listed = check(opened.slice(round.length));
    let pending: readonly number[] = round;
    for (;;) {
      const moves: (string | number)[][] = [];
      const full: number[] = [];
      listed.forEach((r, j) => {
        const keys = r.value as string[];
        if (keys.length === 0) return;
        // One MIGRATE per slot: in cluster mode its keys must share a slot.
        moves.push(migrateArgs(pool, to, timeoutMs, keys, true));
        done.keys += keys.length;
        if (keys.length >= keysPerBatch) full.push(pending[j] as number);
      });
      check(await pool.pipeline(from, moves));
      // A slot listed short is empty now: a key the source lacks is created on the target (ASK),
      // never on the source. Should one remain anyway, SETSLOT NODE below refuses and a retry moves it.
      if (full.length === 0) break;
      pending = full;
      listed = check(
        await pool.pipeline(
          from,
          full.map((s) => ['CLUSTER', 'GETKEYSINSLOT', s, keysPerBatch]),
        ),
      );
    }
    // The target takes ownership first (bumping its epoch), so the source's claim can only lose.
    const assign = round.map((s) => ['CLUSTER', 'SETSLOT', s, 'NODE', toId]);
    check(await pool.pipeline(to, assign));
    await Promise.all([
      // A source that gave away its last slot may already have turned into a replica of the target.
      pool.pipeline(from, assign).then((r) => check(r, /only with masters/)),
      // The other masters would learn it by gossip; telling them saves clients a redirection round.
      ...others.filter((a) => a !== from && a !== to).map((a) => pool.pipeline(a, assign)),
    ]);
    done.slots += round.length;
    opts.onProgress?.({ ...done });
  }
  return done;
}

/**
 * Abandons a half-done migration of one slot: the owner stops redirecting to the target (it
 * would answer ASK to the keys coming back), keys that reached another node return to the owner,
 * the owner's copy winning where both have one, then every node drops its open state. Keys on
 * their way back are briefly invisible to clients; this is a repair path, not a routine one.
 */
export async function rollbackSlot(
  pool: NodePool,
  slot: number,
  owner: NodeAddress,
  others: readonly NodeAddress[],
  opts: MigrationOptions = {},
): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  let moved = 0;
  await pool.call(owner, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
  for (const node of others) {
    for (;;) {
      const keys = (await pool.call(
        node,
        'CLUSTER',
        'GETKEYSINSLOT',
        slot,
        opts.keysPerBatch ?? 100,
      )) as string[];
      if (keys.length === 0) break;
      const results = await pool.pipeline(
        node,
        keys.map((k) => migrateArgs(pool, owner, timeoutMs, [k], false)),
      );
      const busy = keys.filter((_, j) => results[j]?.error?.message.startsWith('BUSYKEY'));
      check(
        results.filter((r) => !r.error?.message.startsWith('BUSYKEY')),
        undefined,
      );
      if (busy.length > 0) await pool.call(node, 'DEL', ...busy);
      moved += keys.length - busy.length;
    }
    await pool.call(node, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
  }
  return moved;
}
