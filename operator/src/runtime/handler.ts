import { controllerOf } from './apply.ts';
import type { EventHandler } from './informer.ts';
import type { KubeObject } from './object.ts';
import type { Request } from './reconcile.ts';
import type { GroupVersionKind } from './resources.ts';

/**
 * Event handlers turn informer events into Requests. They never look at what changed: any event on an object
 * only says "reconcile whoever depends on it".
 */
export type Enqueue = (req: Request) => void;

const reqOf = (o: KubeObject): Request => ({ namespace: o.metadata.namespace, name: o.metadata.name });

/** The object itself (the controller's primary kind). */
export function enqueueObject(enqueue: Enqueue): EventHandler {
  return {
    onAdd: (o) => enqueue(reqOf(o)),
    onUpdate: (_old, o) => enqueue(reqOf(o)),
    onDelete: (o) => enqueue(reqOf(o)),
  };
}

/**
 * The controlling owner of a child, when it is of the given kind: a deleted or edited Deployment wakes the
 * Microservice that owns it. On update both the old and the new owner are enqueued (an owner reference may
 * have changed hands).
 */
export function enqueueOwner(owner: GroupVersionKind, enqueue: Enqueue): EventHandler {
  const ownerGroup = owner.apiVersion.split('/')[0];
  const go = (o: KubeObject) => {
    const ref = controllerOf(o);
    if (!ref || ref.kind !== owner.kind || ref.apiVersion.split('/')[0] !== ownerGroup) return;
    enqueue({ namespace: o.metadata.namespace, name: ref.name });
  };
  return {
    onAdd: go,
    onUpdate: (old, o) => {
      go(o);
      if (controllerOf(old)?.uid !== controllerOf(o)?.uid) go(old);
    },
    onDelete: go,
  };
}

/** Any mapping from an object to the requests it affects (e.g. a Topic to the Microservices referencing it). */
export function enqueueMapped(map: (o: KubeObject) => Request[], enqueue: Enqueue): EventHandler {
  const go = (o: KubeObject) => {
    for (const r of map(o)) enqueue(r);
  };
  return {
    onAdd: go,
    onUpdate: (old, o) => {
      go(old);
      go(o);
    },
    onDelete: go,
  };
}
