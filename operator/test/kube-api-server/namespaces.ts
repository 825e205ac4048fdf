/**
 * The namespace controller: a deleted namespace is Terminating until everything in it is gone,
 * then its `kubernetes` spec finalizer is released and the namespace disappears.
 */
import type { Registry } from './registry.ts';
import { isObject, type JsonObject } from './schema.ts';
import { WorkQueue } from './workqueue.ts';

const meta = (o: JsonObject): JsonObject => (isObject(o.metadata) ? o.metadata : {});

export class NamespaceController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: Registry) {
    this.queue = new WorkQueue((ns) => this.reconcile(ns));
    this.unsubscribe = registry.storage.subscribe((e) => {
      if (e.storageKey === '/namespaces') {
        if (meta(e.object).deletionTimestamp) this.queue.add(e.name);
      } else if (e.type === 'DELETED' && e.namespace) this.queue.add(e.namespace);
    });
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }

  private reconcile(name: string): void {
    const ns = this.registry.storage.get('/namespaces', '', name);
    if (!ns || !meta(ns).deletionTimestamp) return;
    let remaining = 0;
    for (const { storageKey, object } of [...this.registry.storage.all()]) {
      const m = meta(object);
      if (m.namespace !== name) continue;
      remaining++;
      if (m.deletionTimestamp) continue;
      const t = this.registry.resources.all().find((x) => x.storageKey === storageKey);
      if (!t) continue;
      this.registry.delete(t, name, String(m.name), { propagationPolicy: 'Background' });
    }
    if (remaining > 0) return;
    const t = this.registry.resources.get('', 'v1', 'namespaces')!;
    const next = structuredClone(ns);
    next.spec = { ...(isObject(next.spec) ? next.spec : {}), finalizers: [] };
    this.registry.commit(t, ns, next, {
      manager: 'kube-controller-manager',
      subresource: 'finalize',
      isPut: false,
      applied: false,
      dryRun: false,
    });
  }
}
