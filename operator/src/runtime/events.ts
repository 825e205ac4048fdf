import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './object.ts';

export type EventType = 'Normal' | 'Warning';

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  /** A write in flight; repeats while it runs are folded into the next one. */
  busy: boolean;
  pending: number;
}

const MAX_TRACKED = 4096;

/**
 * Records core/v1 Events about objects, as `kubectl describe` shows them. Repeats of the same event
 * (object, type, reason, message) are aggregated into one Event whose count grows, instead of one object per
 * occurrence, and writes never block or fail a reconcile: events are best effort.
 */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log: Logger,
    private readonly host = process.env['HOSTNAME'] ?? '',
  ) {}

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const s = this.seen.get(key);
    if (s) {
      s.pending++;
      if (!s.busy) void this.flush(key, s, obj, type, reason, message);
      return;
    }
    if (this.seen.size >= MAX_TRACKED) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    const now = new Date().toISOString();
    const entry: Seen = {
      name: `${obj.metadata.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
      namespace: obj.metadata.namespace ?? 'default',
      count: 0,
      firstTimestamp: now,
      busy: false,
      pending: 1,
    };
    this.seen.set(key, entry);
    void this.flush(key, entry, obj, type, reason, message);
  }

  /** Events known to this recorder, for tests. */
  counts(): Map<string, number> {
    return new Map([...this.seen].map(([k, v]) => [k, v.count]));
  }

  private async flush(
    key: string,
    s: Seen,
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
  ) {
    s.busy = true;
    try {
      while (s.pending > 0) {
        const add = s.pending;
        s.pending = 0;
        const now = new Date().toISOString();
        if (s.count === 0) {
          await this.client.create({
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: s.name, namespace: s.namespace },
            involvedObject: {
              apiVersion: obj.apiVersion,
              kind: obj.kind,
              name: obj.metadata.name,
              namespace: obj.metadata.namespace,
              uid: obj.metadata.uid,
              resourceVersion: obj.metadata.resourceVersion,
            },
            type,
            reason,
            message,
            count: add,
            firstTimestamp: s.firstTimestamp,
            lastTimestamp: now,
            source: { component: this.component, host: this.host || undefined },
            reportingComponent: this.component,
            reportingInstance: this.host || this.component,
          });
        } else {
          await this.client.mergePatch({ apiVersion: 'v1', kind: 'Event' }, s.namespace, s.name, {
            count: s.count + add,
            lastTimestamp: now,
          });
        }
        s.count += add;
      }
    } catch (e) {
      this.log.debug({ err: (e as Error).message, reason }, 'event not recorded');
      this.seen.delete(key);
    } finally {
      s.busy = false;
    }
  }
}
