/**
 * Offline validation of rendered objects: standard kinds against kubernetes-models' OpenAPI
 * validators, prometheus-operator kinds against theirs. An unknown kind is an error, so a new
 * template can never slip through unvalidated.
 */
import type { K8sObject } from './helm.ts';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

function modulePath(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}`;
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

export async function validateObject(obj: K8sObject): Promise<void> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`${modulePath(obj.apiVersion)}/${obj.kind}`)) as Record<string, unknown>;
  } catch {
    throw new Error(`no offline validator for ${obj.apiVersion} ${obj.kind}`);
  }
  const Model = mod[obj.kind] as ModelClass | undefined;
  if (!Model) throw new Error(`no offline validator for ${obj.apiVersion} ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (e) {
    throw new Error(`${obj.kind}/${obj.metadata.name}: ${(e as Error).message}`);
  }
}
