/**
 * What a reconciler is asked to do: bring the object with this key to its desired state.
 *
 * A Request carries the key only, never the event that caused it. Reconcilers are level-based: they read the
 * current state from the cache and converge on it, whatever happened in between. That is what makes
 * deduplicating keys, dropping watches, relisting and restarting the operator safe: any number of events for
 * a key collapse into one reconcile of the latest state, and a reconcile may run again at any time.
 */
export interface Request {
  namespace?: string;
  name: string;
}

/**
 * - nothing (or {}): done until the next event;
 * - requeue: run again soon, with backoff (e.g. waiting for something that has no watch);
 * - requeueAfter: run again after this many ms, without counting as a failure (e.g. polling an external system).
 * Throwing is a failure: the key is retried with per-key exponential backoff.
 */
export interface Result {
  requeue?: boolean;
  requeueAfter?: number;
}

export type Reconciler = (req: Request) => Promise<Result | undefined>;

export const requestKey = (r: Request) => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

export function requestFromKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
