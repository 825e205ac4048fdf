import type { Logger } from 'pino';
import { isConflict, type KubeClient } from './client.ts';
import type { KubeObject } from './object.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid after the last renewal seen. */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long (must be < leaseDuration). */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };

/** MicroTime, as metav1 serialises it. */
const microTime = (d = new Date()) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Lease-based leader election (coordination.k8s.io/v1), as client-go does it: one replica holds the Lease and
 * renews it; the others retry and take over once it has not been renewed for a lease duration. Expiry is
 * judged on the local clock from when this process last saw the lease change, not on the timestamps inside it,
 * so clock skew between nodes does not matter. A leader that stops cleanly releases the lease (empty holder)
 * so a standby takes over within one retry period instead of a full lease duration.
 *
 * Writes use the Lease's resourceVersion: two candidates racing for it cannot both win (409 Conflict).
 */
export class LeaderElector {
  private lease: Lease | undefined;
  private observedAt = 0;
  private observedRv: string | undefined;
  private leading = false;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
    private readonly log: Logger,
  ) {
    this.duration = opts.leaseDurationMs ?? 15_000;
    this.renewDeadline = opts.renewDeadlineMs ?? 10_000;
    this.retry = opts.retryPeriodMs ?? 2_000;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until elected, then renews until it fails to for renewDeadline or the signal aborts.
   * Calls onStarted once elected and onStopped if leadership is lost (not when the signal stops it: the
   * caller then stops its controllers and calls release()).
   */
  async run(signal: AbortSignal, onStarted: () => void, onStopped: () => void): Promise<void> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      await sleep(this.retry * (1 + Math.random() * 0.2), signal);
    }
    if (signal.aborted) return;
    this.leading = true;
    this.log.info({ identity: this.opts.identity, lease: this.opts.name }, 'became leader');
    onStarted();
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.retry, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.renewDeadline || this.heldByOther()) {
        this.log.warn({ identity: this.opts.identity }, 'leadership lost');
        break;
      }
    }
    this.leading = false;
    if (!signal.aborted) onStopped();
  }

  private heldByOther(): boolean {
    const h = this.lease?.spec?.holderIdentity;
    return Boolean(h) && h !== this.opts.identity && this.observedAt + this.duration > Date.now();
  }

  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = microTime();
    const mine: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.duration / 1000),
      renewTime: now,
    };
    try {
      const current = await this.client.get<Lease>(LEASE, namespace, name);
      if (!current) {
        this.lease = await this.client.create<Lease>({
          ...LEASE,
          metadata: { name, namespace },
          spec: { ...mine, acquireTime: now, leaseTransitions: 0 },
        });
        this.observe();
        return true;
      }
      this.lease = current;
      if (current.metadata.resourceVersion !== this.observedRv) this.observe();
      const spec = current.spec ?? {};
      if (
        spec.holderIdentity &&
        spec.holderIdentity !== identity &&
        this.observedAt + this.duration > Date.now()
      ) {
        return false;
      }
      const takeover = spec.holderIdentity !== identity;
      this.lease = await this.client.update<Lease>({
        ...current,
        spec: {
          ...spec,
          ...mine,
          acquireTime: takeover ? now : (spec.acquireTime ?? now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover ? 1 : 0),
        },
      });
      this.observe();
      return true;
    } catch (e) {
      // A conflict is another candidate winning the race: normal. Anything else (a missing namespace, RBAC) is not.
      if (!isConflict(e))
        this.log.warn({ err: (e as Error).message, lease: `${namespace}/${name}` }, 'lease update failed');
      return false;
    }
  }

  private observe() {
    this.observedRv = this.lease?.metadata.resourceVersion;
    this.observedAt = Date.now();
  }

  /** Gives the lease up so a standby does not wait for it to expire. */
  async release(): Promise<void> {
    if (!this.lease || this.lease.spec?.holderIdentity !== this.opts.identity) return;
    try {
      await this.client.update<Lease>({
        ...this.lease,
        spec: { ...this.lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() },
      });
      this.log.info({ identity: this.opts.identity }, 'lease released');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'lease release failed');
    }
    this.leading = false;
  }
}
