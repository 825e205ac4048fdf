/**
 * Synchronous clean-ups that run when the process ends in any ordinary way: normal exit, an
 * uncaught error, or SIGINT/SIGTERM/SIGHUP (when the program has no handler of its own for the
 * signal). They must be synchronous because nothing asynchronous runs during 'exit'.
 */
type Cleanup = () => void;

const cleanups = new Map<number, Cleanup>();
let nextId = 1;
let installed = false;

function runAll(): void {
  const pending = [...cleanups.values()].reverse();
  cleanups.clear();
  for (const fn of pending) {
    try {
      fn();
    } catch (e) {
      process.stderr.write(`cleanup failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // A program with its own handler shuts down in order and exits; the clean-ups then run on 'exit'.
      if (process.listenerCount(sig) > 1) return;
      runAll();
      // Default behaviour afterwards: die of the same signal.
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** Registers a clean-up; call the returned function once it is no longer needed. */
export function onExit(fn: Cleanup): () => void {
  install();
  const id = nextId++;
  cleanups.set(id, fn);
  return () => {
    cleanups.delete(id);
  };
}
