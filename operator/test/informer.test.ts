import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KubeClient } from '../src/runtime/client.ts';
import { Informer } from '../src/runtime/informer.ts';
import { createLogger } from '../src/runtime/log.ts';
import type { KubeObject } from '../src/runtime/object.ts';
import { type KubeApiServer, startKubeApiServer } from './kube-api-server/server.ts';
import { eventually } from './support/cluster.ts';

const NS = 'inf';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
const cm = (name: string, v = '1'): KubeObject => ({ ...CM, metadata: { name, namespace: NS }, data: { v } });

const s = suite('informer');
let server: KubeApiServer;
let client: KubeClient;
let inf: Informer;
const seen: string[] = [];
let resyncs = 0;

s.before(async () => {
  server = await startKubeApiServer({ namespaces: [NS] });
  client = new KubeClient(server.kubeConfig());
  await client.create(cm('a'));
  inf = new Informer(client, CM, { namespace: NS, resyncMs: 300, log: createLogger('t', 'silent') });
  inf.addHandler({
    onAdd: (o) => seen.push(`add ${o.metadata.name}`),
    onUpdate: (old, o) => {
      if (old === o) resyncs++;
      else seen.push(`update ${o.metadata.name}`);
    },
    onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  inf.start();
  await inf.waitForSync();
});
s.after(async () => {
  await inf.stop();
  client.close();
  await server.stop();
});

s('lists, then watches: adds, updates and deletes reach the cache and the handlers', async () => {
  assert.ok(inf.cache.getByName(NS, 'a'));
  await client.create(cm('b'));
  await client.mergePatch(CM, NS, 'b', { data: { v: '2' } });
  await eventually(() => (inf.cache.getByName(NS, 'b')?.['data'] as { v: string })?.v === '2', 'update seen');
  assert.equal(seen.slice(0, 3), ['add a', 'add b', 'update b']);
});

s('a dropped watch resumes from the last resourceVersion, without a relist', async () => {
  const lists = inf.stats.lists;
  assert.is(server.dropWatches(), 1);
  await client.create(cm('c'));
  await eventually(() => inf.cache.getByName(NS, 'c'), 'event after the drop');
  assert.is(inf.stats.lists, lists, 'resumed, not relisted');
});

s('bookmarks are understood', async () => {
  await eventually(() => server.watchCount() === 1, 'watch open');
  server.bookmark();
  await eventually(() => inf.stats.bookmarks > 0, 'bookmark received');
});

s('410 Gone after a compaction: relist, and the difference is delivered (incl. deletes missed)', async () => {
  const lists = inf.stats.lists;
  seen.length = 0;
  server.dropWatches({ abrupt: true });
  await client.delete(CM, NS, 'a');
  await client.create(cm('d'));
  server.compact();
  await eventually(() => inf.stats.gone > 0 && inf.stats.lists > lists, 'relisted after 410', 10_000);
  await eventually(
    () => !inf.cache.getByName(NS, 'a') && inf.cache.getByName(NS, 'd'),
    'cache matches the server',
  );
  assert.ok(seen.includes('delete a'), `delete delivered: ${seen}`);
  assert.ok(seen.includes('add d'), `add delivered: ${seen}`);
  assert.equal(inf.cache.keys().sort(), [`${NS}/b`, `${NS}/c`, `${NS}/d`]);
});

s('periodic resync delivers every cached object again', async () => {
  const before = resyncs;
  await eventually(() => resyncs >= before + inf.cache.size, 'a resync', 3_000);
});

s.run();
