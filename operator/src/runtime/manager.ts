import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Applier } from './apply.ts';
import type { Cache } from './cache.ts';
import { KubeClient } from './client.ts';
import { Controller, type ControllerOptions, type InformerSource } from './controller.ts';
import { EventRecorder } from './events.ts';
import { Informer } from './informer.ts';
import { type LeaderElectionOptions, LeaderElector } from './leaderelection.ts';
import { createLogger } from './log.ts';
import { OperatorMetrics } from './metrics.ts';
import type { KubeObject } from './object.ts';
import { type GroupVersionKind, gvkKey } from './resources.ts';
import { ProbeServer } from './server.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  /** Field manager for server-side apply, and the component name on Events. */
  name?: string;
  /** Watch only this namespace (all namespaces by default). */
  namespace?: string;
  /** Label selectors for the informers of given kinds (e.g. only children this operator manages). */
  selectors?: Record<string, string>;
  resyncMs?: number;
  leaderElection?: Omit<LeaderElectionOptions, 'identity'> & { identity?: string };
  /** Port for /metrics, /healthz, /readyz; undefined: no server; 0: any free port. */
  probePort?: number;
  probeHost?: string;
  log?: Logger;
  processMetrics?: boolean;
}

/**
 * Owns everything controllers share: the client, one informer (and cache) per kind, metrics, the probe server,
 * the event recorder and leader election. Start order follows controller-runtime: probe server, informers
 * (every replica keeps warm caches, so a standby can take over at once), leader election, then controllers.
 * stop() reverses it: controllers finish their reconciles in flight before the lease is released.
 */
export class Manager implements InformerSource {
  readonly client: KubeClient;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly name: string;
  readonly applier: Applier;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: Controller[] = [];
  private readonly server: ProbeServer;
  private elector: LeaderElector | undefined;
  private readonly abort = new AbortController();
  private election: Promise<void> | undefined;
  private controllersRunning = false;
  private stopping: Promise<void> | undefined;
  private electedWaiters: (() => void)[] = [];
  private lostHandlers: (() => void)[] = [];
  private readonly recorders = new Map<string, EventRecorder>();
  probePort: number | undefined;

  constructor(private readonly opts: ManagerOptions) {
    this.name = opts.name ?? 'souk-operator';
    this.log = opts.log ?? createLogger(this.name);
    this.client = new KubeClient(opts.kubeConfig);
    this.metrics = new OperatorMetrics({ processMetrics: opts.processMetrics });
    this.applier = new Applier(this.client, this.name);
    this.server = new ProbeServer(this.metrics.registry, {
      healthy: () => !this.abort.signal.aborted,
      ready: () => [...this.informers.values()].every((i) => i.hasSynced()),
    });
  }

  /** The shared informer of a kind (created on first use, started with the manager). */
  informer<T extends KubeObject = KubeObject>(gvk: GroupVersionKind): Informer<T> {
    const key = gvkKey(gvk);
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer(this.client, gvk, {
        namespace: this.opts.namespace,
        labelSelector: this.opts.selectors?.[key],
        resyncMs: this.opts.resyncMs ?? 10 * 60_000,
        log: this.log,
      });
      this.informers.set(key, inf);
      if (this.election || this.controllersRunning) inf.start();
    }
    return inf as unknown as Informer<T>;
  }

  cache<T extends KubeObject = KubeObject>(gvk: GroupVersionKind): Cache<T> {
    return this.informer<T>(gvk).cache;
  }

  recorder(component = this.name): EventRecorder {
    let r = this.recorders.get(component);
    if (!r) {
      r = new EventRecorder(this.client, component, this.log);
      this.recorders.set(component, r);
    }
    return r;
  }

  /** Registers a controller; it starts once this manager leads (or at once without leader election). */
  add(opts: ControllerOptions): Controller {
    const c = new Controller(opts, this, this.metrics, this.log.child({ controller: opts.name }));
    this.controllers.push(c);
    if (this.controllersRunning) c.start();
    return c;
  }

  isLeader(): boolean {
    return this.controllersRunning;
  }

  /** Resolves once this manager leads and its controllers run. */
  elected(): Promise<void> {
    if (this.controllersRunning) return Promise.resolve();
    return new Promise((resolve) => this.electedWaiters.push(resolve));
  }

  /** Called when leadership is lost; a process should exit then (its state may be stale). */
  onLostLeadership(fn: () => void): void {
    this.lostHandlers.push(fn);
  }

  /** Starts the probe server and informers, waits for the caches, then campaigns (in the background). */
  async start(): Promise<void> {
    if (this.opts.probePort !== undefined) {
      this.probePort = await this.server.listen(this.opts.probePort, this.opts.probeHost);
    }
    for (const inf of this.informers.values()) inf.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    this.log.info({ kinds: [...this.informers.keys()] }, 'caches synced');
    const le = this.opts.leaderElection;
    if (!le) {
      this.election = Promise.resolve();
      this.startControllers();
      return;
    }
    const identity = le.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    this.elector = new LeaderElector(this.client, { ...le, identity }, this.log);
    const leader = this.metrics.leader.labels(le.name);
    leader.set(0);
    this.election = this.elector.run(
      this.abort.signal,
      () => {
        leader.set(1);
        this.startControllers();
      },
      () => {
        leader.set(0);
        void this.stopControllers().then(() => {
          for (const fn of this.lostHandlers) fn();
        });
      },
    );
  }

  private startControllers(): void {
    this.controllersRunning = true;
    for (const c of this.controllers) c.start();
    for (const w of this.electedWaiters.splice(0)) w();
  }

  private async stopControllers(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stop()));
  }

  /** Graceful shutdown: no new reconciles, finish those in flight, release the lease, close watches. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      await this.stopControllers();
      await this.election;
      await this.elector?.release();
      this.controllersRunning = false;
      await Promise.all([...this.informers.values()].map((i) => i.stop()));
      await this.server.close();
      this.client.close();
    })();
    return this.stopping;
  }

  /** Stops on SIGTERM / SIGINT, then exits. */
  handleSignals(exit: (code: number) => void = (c) => process.exit(c)): void {
    const onSignal = (sig: string) => {
      this.log.info({ signal: sig }, 'shutting down');
      const force = setTimeout(() => exit(1), 25_000);
      force.unref();
      this.stop().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  }
}
