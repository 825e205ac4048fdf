import type { Logger } from 'pino';
import { type Enqueue, enqueueMapped, enqueueObject, enqueueOwner } from './handler.ts';
import type { EventHandler, Informer } from './informer.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { KubeObject } from './object.ts';
import { type Reconciler, type Request, requestFromKey, requestKey } from './reconcile.ts';
import type { GroupVersionKind } from './resources.ts';
import { WorkQueue } from './workqueue.ts';

/** The `result` label values of controller_runtime_reconcile_total. */
const RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;

/** How a controller is declared; the manager wires informers and starts it. */
export interface ControllerOptions {
  /** Names metrics, the workqueue and logs. */
  name: string;
  /** The primary kind: every event on it enqueues its own key. */
  for: GroupVersionKind;
  /** Children it controls: their events enqueue their controlling owner of the primary kind. */
  owns?: GroupVersionKind[];
  /** Other kinds whose events map to requests (references, shared dependencies). */
  watches?: { kind: GroupVersionKind; map: (obj: KubeObject) => Request[] }[];
  reconcile: Reconciler;
  /** Concurrent reconciles (distinct keys only). Default 4. */
  workers?: number;
}

/** A source of informers, shared between controllers so each kind is listed and watched once. */
export interface InformerSource {
  informer(gvk: GroupVersionKind): Informer;
}

/**
 * Runs a Reconciler over a WorkQueue with N workers. Events from the watched kinds only put keys in the queue
 * (see reconcile.ts for why a Request is a key); the queue guarantees one key is never reconciled by two
 * workers at once, and the result decides whether and when the key comes back.
 */
export class Controller {
  readonly queue: WorkQueue<string>;
  private workers: Promise<void>[] = [];
  private started = false;
  private readonly handlers: [Informer, EventHandler][] = [];

  constructor(
    readonly opts: ControllerOptions,
    private readonly source: InformerSource,
    private readonly metrics: OperatorMetrics,
    private readonly log: Logger,
  ) {
    this.queue = new WorkQueue<string>(opts.name, undefined, metrics.queue(opts.name));
    // Informers are created now so the manager can start and sync them before leadership is won.
    source.informer(opts.for);
    for (const k of opts.owns ?? []) source.informer(k);
    for (const w of opts.watches ?? []) source.informer(w.kind);
  }

  enqueue: Enqueue = (req) => this.queue.add(requestKey(req));

  /** Registers the event handlers and starts the workers. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { opts, source } = this;
    this.handlers.push([source.informer(opts.for), enqueueObject(this.enqueue)]);
    for (const k of opts.owns ?? [])
      this.handlers.push([source.informer(k), enqueueOwner(opts.for, this.enqueue)]);
    for (const w of opts.watches ?? [])
      this.handlers.push([source.informer(w.kind), enqueueMapped(w.map, this.enqueue)]);
    for (const [inf, h] of this.handlers) inf.addHandler(h);
    const n = opts.workers ?? 4;
    this.metrics.maxConcurrent.labels(opts.name).set(n);
    // Series exist from the start, as in controller-runtime, so rate() sees the first error.
    for (const result of RESULTS) this.metrics.reconcileTotal.labels(opts.name, result).inc(0);
    this.metrics.reconcileErrors.labels(opts.name).inc(0);
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  /** Stops taking keys and waits for reconciles in flight. */
  async stop(): Promise<void> {
    await this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    const name = this.opts.name;
    const active = this.metrics.activeWorkers.labels(name);
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      active.inc();
      const end = this.metrics.reconcileTime.startTimer({ controller: name });
      try {
        const result = await this.opts.reconcile(requestFromKey(key));
        if (result?.requeueAfter && result.requeueAfter > 0) {
          this.queue.forget(key);
          this.queue.addAfter(key, result.requeueAfter);
          this.metrics.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
        } else if (result?.requeue) {
          this.queue.addRateLimited(key);
          this.metrics.reconcileTotal.inc({ controller: name, result: 'requeue' });
        } else {
          this.queue.forget(key);
          this.metrics.reconcileTotal.inc({ controller: name, result: 'success' });
        }
      } catch (e) {
        this.queue.addRateLimited(key);
        this.metrics.reconcileTotal.inc({ controller: name, result: 'error' });
        this.metrics.reconcileErrors.inc({ controller: name });
        this.log.warn(
          { controller: name, key, err: (e as Error).message, retries: this.queue.numRequeues(key) },
          'reconcile failed',
        );
      } finally {
        end();
        active.dec();
        this.queue.done(key);
      }
    }
  }
}
