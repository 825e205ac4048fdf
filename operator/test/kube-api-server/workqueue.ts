/**
 * A deduplicating queue drained asynchronously, so the in-process controllers (CRD, garbage
 * collector, namespace, kubelet) act after a write completes, as separate actors would.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private stopped = false;

  constructor(private readonly handle: (key: string) => void) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const keys = [...this.pending];
    this.pending.clear();
    for (const k of keys) {
      if (this.stopped) return;
      try {
        this.handle(k);
      } catch {
        // A conflicting concurrent write: the resulting event requeues the key.
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }
}
