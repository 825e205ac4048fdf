import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { CRDS_DIR, renderCrds } from '../src/api/crds.ts';

test('crds/ equals what operator/src/api generates', async () => {
  const expected = renderCrds();
  const onDisk = (await readdir(CRDS_DIR)).filter((f) => f.endsWith('.yaml')).sort();
  assert.equal(onDisk, [...expected.keys()].sort(), 'crds/ holds exactly the generated files');
  for (const [name, text] of expected) {
    const actual = await readFile(join(CRDS_DIR, name), 'utf8');
    assert.is(actual, text, `${name} is stale: run npm run -w operator generate:crds`);
  }
});

test('every CRD has a status subresource, printer columns, short names and no "rc"', () => {
  for (const [name, text] of renderCrds()) {
    if (name === 'kustomization.yaml') continue;
    const crd = parse(text);
    const v = crd.spec.versions[0];
    assert.equal(v.subresources, { status: {} });
    assert.ok(v.additionalPrinterColumns.some((c: { name: string }) => c.name === 'Ready'));
    assert.ok(crd.spec.names.shortNames.length > 0);
    assert.not.ok(crd.spec.names.shortNames.includes('rc'));
    assert.ok(crd.spec.names.categories.includes('souk'));
    const status = v.schema.openAPIV3Schema.properties.status;
    assert.ok(status.properties.observedGeneration);
    assert.equal(status.properties.conditions['x-kubernetes-list-map-keys'], ['type']);
  }
});

test.run();
