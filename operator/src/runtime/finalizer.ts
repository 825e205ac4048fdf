import type { KubeClient } from './client.ts';
import type { KubeObject } from './object.ts';

/*
 * Finalizers are for state outside the cluster only (a Kafka topic, say). Children inside the cluster are
 * removed by the garbage collector through ownerReferences; a finalizer there would only add a way to get stuck.
 *
 * Both helpers write the whole finalizer list with the object's resourceVersion as a precondition: if someone
 * else changed the object meanwhile the write fails with 409, the reconcile errors and runs again on fresh state.
 */

export const hasFinalizer = (obj: KubeObject, finalizer: string) =>
  obj.metadata.finalizers?.includes(finalizer) ?? false;

export const isDeleting = (obj: KubeObject) => Boolean(obj.metadata.deletionTimestamp);

/** Adds the finalizer if missing. Returns the updated object (or the same one when nothing changed). */
export async function ensureFinalizer<T extends KubeObject>(
  client: KubeClient,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return client.mergePatch<T>(obj, obj.metadata.namespace, obj.metadata.name, {
    metadata: {
      finalizers: [...(obj.metadata.finalizers ?? []), finalizer],
      resourceVersion: obj.metadata.resourceVersion,
    },
  });
}

/** Removes the finalizer once the external state is gone; the apiserver then completes the deletion. */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return client.mergePatch<T>(obj, obj.metadata.namespace, obj.metadata.name, {
    metadata: {
      finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer),
      resourceVersion: obj.metadata.resourceVersion,
    },
  });
}
