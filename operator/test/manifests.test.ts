import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const kubectl = [`${root}.souk/bin/kubectl`, '/usr/bin/kubectl'].find((p) => existsSync(p));

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJSON() as Record<string, unknown>);
const install = () => docs(readFileSync(`${root}manifests/install.yaml`, 'utf8'));

test('manifests/install.yaml is the rendered kustomization (kubectl kustomize manifests)', () => {
  if (!kubectl) throw new Error('kubectl not found: run bash scripts/setup');
  const rendered = execFileSync(kubectl, ['kustomize', `${root}manifests`], { encoding: 'utf8' });
  assert.fixture(readFileSync(`${root}manifests/install.yaml`, 'utf8'), rendered);
});

test('the bundle holds the CRDs exactly as crds/ does', () => {
  const crds = install().filter((d) => d['kind'] === 'CustomResourceDefinition');
  assert.equal(crds.map((c) => (c['metadata'] as { name: string }).name).sort(), [
    'microservices.souk.dev',
    'redisclusters.souk.dev',
    'topics.souk.dev',
  ]);
  for (const crd of crds) {
    const name = (crd['spec'] as { names: { plural: string } }).names.plural;
    const onDisk = docs(readFileSync(`${root}crds/souk.dev_${name}.yaml`, 'utf8'))[0];
    assert.equal(crd, onDisk, name);
  }
});

test('RBAC: no wildcard, no secrets, leases only through a namespaced Role', () => {
  const rules = install()
    .filter((d) => d['kind'] === 'ClusterRole')
    .flatMap((r) => r['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[]);
  assert.ok(rules.length > 0);
  for (const r of rules) {
    assert.not.ok(
      r.verbs.includes('*') || r.resources.includes('*') || r.apiGroups.includes('*'),
      JSON.stringify(r),
    );
    assert.not.ok(r.resources.includes('secrets'), 'the operator never reads Secrets');
    assert.not.ok(r.resources.includes('leases'), 'leases are namespaced');
  }
  const role = install().find((d) => d['kind'] === 'Role');
  assert.equal((role?.['rules'] as { verbs: string[] }[] | undefined)?.[0]?.verbs, [
    'get',
    'create',
    'update',
  ]);
});

test('the operator Deployment runs two replicas with leader election, non-root, read-only', () => {
  const dep = install().find((d) => d['kind'] === 'Deployment') as {
    spec: {
      replicas: number;
      template: {
        spec: {
          serviceAccountName: string;
          securityContext: { runAsNonRoot: boolean };
          containers: {
            env: { name: string; value?: string }[];
            securityContext: { readOnlyRootFilesystem: boolean };
          }[];
        };
      };
    };
  };
  assert.is(dep.spec.replicas, 2);
  const c = dep.spec.template.spec.containers[0]!;
  assert.is(c.env.find((e) => e.name === 'LEADER_ELECT')?.value, 'true');
  assert.ok(dep.spec.template.spec.securityContext.runAsNonRoot);
  assert.ok(c.securityContext.readOnlyRootFilesystem);
  assert.is(dep.spec.template.spec.serviceAccountName, 'souk-operator');
});

test.run();
