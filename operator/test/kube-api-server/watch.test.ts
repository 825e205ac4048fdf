import {
  CoreV1Api,
  type KubernetesObject,
  makeInformer,
  type V1ConfigMap,
  Watch,
} from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type KubeApiServer, startKubeApiServer } from './server.ts';
import { eventually } from './test-helpers.ts';

const test = suite<{ api: KubeApiServer }>('kube-api-server: list/watch');

test.before(async (ctx) => {
  ctx.api = await startKubeApiServer({ namespaces: ['w'], bookmarkIntervalMs: 50 });
});
test.after(async (ctx) => {
  await ctx.api.stop();
});

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  code?: number;
  reason?: string;
}

async function openWatch(
  api: KubeApiServer,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
) {
  const events: Seen[] = [];
  let done: unknown = 'open';
  const controller = await new Watch(api.kubeConfig()).watch(
    path,
    query,
    (type, obj: KubernetesObject & { code?: number; reason?: string }) =>
      events.push({
        type,
        ...(obj.metadata?.name ? { name: obj.metadata.name } : {}),
        ...(obj.metadata?.resourceVersion ? { rv: obj.metadata.resourceVersion } : {}),
        ...(obj.code ? { code: obj.code, reason: obj.reason } : {}),
      }),
    (err) => {
      done = err;
    },
  );
  return { events, controller, done: () => done };
}

test('watch resumes after a resourceVersion, streams ADDED/MODIFIED/DELETED and sends bookmarks', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const a = await core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'a' } } });
  await core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'b' } } });
  const from = a.metadata!.resourceVersion!;
  const w = await openWatch(api, '/api/v1/namespaces/w/configmaps', {
    resourceVersion: from,
    allowWatchBookmarks: true,
  });
  await eventually(() => w.events.some((e) => e.name === 'b'), 'replay after the resourceVersion');
  assert.equal(
    w.events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type}:${e.name}`),
    ['ADDED:b'],
    'only events after the RV',
  );
  await core.replaceNamespacedConfigMap({
    name: 'a',
    namespace: 'w',
    body: { ...(await core.readNamespacedConfigMap({ name: 'a', namespace: 'w' })), data: { x: '1' } },
  });
  await core.deleteNamespacedConfigMap({ name: 'b', namespace: 'w' });
  await eventually(() => w.events.some((e) => e.type === 'DELETED'), 'the deletion');
  const kinds = w.events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type}:${e.name}`);
  assert.equal(kinds, ['ADDED:b', 'MODIFIED:a', 'DELETED:b']);
  const rvs = w.events.filter((e) => e.type !== 'BOOKMARK').map((e) => Number(e.rv));
  assert.equal(
    rvs,
    [...rvs].sort((x, y) => x - y),
    'resourceVersions increase along the stream',
  );
  const bookmark = await eventually(
    () => w.events.find((e) => e.type === 'BOOKMARK' && Number(e.rv) >= rvs[2]!),
    'a bookmark',
  );
  assert.is(bookmark.name, undefined, 'bookmarks carry only the resourceVersion');
  w.controller.abort();
});

test('a watch without resourceVersion starts with the current state; label selector transitions', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace: 'w',
    body: { metadata: { name: 'sel', labels: { pick: 'yes' } } },
  });
  const w = await openWatch(api, '/api/v1/namespaces/w/configmaps', { labelSelector: 'pick=yes' });
  await eventually(() => w.events.some((e) => e.name === 'sel'), 'initial ADDED');
  const cm = await core.readNamespacedConfigMap({ name: 'sel', namespace: 'w' });
  await core.replaceNamespacedConfigMap({
    name: 'sel',
    namespace: 'w',
    body: { ...cm, metadata: { ...cm.metadata, labels: { pick: 'no' } } },
  });
  await eventually(() => w.events.some((e) => e.type === 'DELETED'), 'leaving the selector is a DELETED');
  assert.equal(
    w.events.map((e) => `${e.type}:${e.name}`),
    ['ADDED:sel', 'DELETED:sel'],
  );
  w.controller.abort();
});

test('a compacted resourceVersion answers an ERROR event with a 410 Expired Status and ends the watch', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const old = await core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'old' } } });
  await core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'newer' } } });
  api.compact();
  const w = await openWatch(api, '/api/v1/namespaces/w/configmaps', {
    resourceVersion: old.metadata!.resourceVersion,
  });
  await eventually(() => w.done() !== 'open', 'the watch to end');
  assert.equal(w.events, [{ type: 'ERROR', code: 410, reason: 'Expired' }]);
  assert.is(w.done(), null);
});

test('sendInitialEvents streams the current state then a bookmark marking its end', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'initial' } } });
  await core.createNamespacedConfigMap({ namespace: 'initial', body: { metadata: { name: 'i1' } } });
  const marks: Array<Record<string, string> | undefined> = [];
  const events: string[] = [];
  const controller = await new Watch(api.kubeConfig()).watch(
    '/api/v1/namespaces/initial/configmaps',
    { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true },
    (type, obj: KubernetesObject) => {
      events.push(type);
      if (type === 'BOOKMARK') marks.push(obj.metadata?.annotations);
    },
    () => {},
  );
  await eventually(() => marks.length > 0, 'the initial-events-end bookmark');
  assert.equal(events.slice(0, 2), ['ADDED', 'BOOKMARK']);
  assert.equal(marks[0], { 'k8s.io/initial-events-end': 'true' });
  controller.abort();
});

test('an exact list reads a past revision', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'exact' } } });
  await core.createNamespacedConfigMap({
    namespace: 'exact',
    body: { metadata: { name: 'e1' }, data: { v: '1' } },
  });
  const before = await core.listNamespacedConfigMap({ namespace: 'exact' });
  await core.createNamespacedConfigMap({ namespace: 'exact', body: { metadata: { name: 'e2' } } });
  await core.deleteNamespacedConfigMap({ name: 'e1', namespace: 'exact' });
  const past = await core.listNamespacedConfigMap({
    namespace: 'exact',
    resourceVersion: before.metadata!.resourceVersion!,
    resourceVersionMatch: 'Exact',
  });
  assert.equal(
    past.items.map((i) => i.metadata?.name),
    ['e1'],
  );
  assert.is(past.metadata?.resourceVersion, before.metadata?.resourceVersion);
  const now = await core.listNamespacedConfigMap({ namespace: 'exact' });
  assert.equal(
    now.items.map((i) => i.metadata?.name),
    ['e2'],
  );
});

test('timeoutSeconds ends the watch; dropWatches ends open watches', async ({ api }) => {
  const timed = await openWatch(api, '/api/v1/namespaces/w/configmaps', { timeoutSeconds: 1 });
  await eventually(() => timed.done() !== 'open', 'the timeout', 4000);
  const open = await openWatch(api, '/api/v1/namespaces/w/secrets', {});
  await eventually(() => api.watchCount() === 1 || undefined, 'the watch to register');
  assert.is(api.dropWatches(), 1);
  await eventually(() => open.done() !== 'open', 'the drop');
});

test('an informer relists after its watch gets 410, and keeps receiving events', async ({ api }) => {
  const kc = api.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'inf' } } });
  const informer = makeInformer<V1ConfigMap>(kc, '/api/v1/namespaces/inf/configmaps', () =>
    core.listNamespacedConfigMap({ namespace: 'inf' }),
  );
  const added: string[] = [];
  informer.on('add', (o) => added.push(o.metadata!.name!));
  await informer.start();
  await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'one' } } });
  await eventually(() => added.includes('one'), 'informer add');
  const listsBefore = api
    .requests()
    .filter((r) => r.path === '/api/v1/namespaces/inf/configmaps' && !r.query.includes('watch')).length;

  await core.createNamespacedSecret({ namespace: 'inf', body: { metadata: { name: 'bump' } } });
  api.compact();
  api.dropWatches();
  await eventually(
    () =>
      api
        .requests()
        .filter((r) => r.path === '/api/v1/namespaces/inf/configmaps' && !r.query.includes('watch')).length >
      listsBefore,
    'a relist after 410',
  );
  await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'two' } } });
  await eventually(() => added.includes('two'), 'events after the relist');
  assert.ok(informer.list().some((o) => o.metadata?.name === 'two'));
  await informer.stop();
});

test.run();
