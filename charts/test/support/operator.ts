/**
 * The souk-operator as its chart runs it (leader election on, every controller), in-process against the
 * Kubernetes API test server, with a few Microservice, Topic and RedisCluster resources to reconcile.
 *
 * The operator reaches the API server through a small proxy that answers 500 to the apply of one
 * Deployment, as a failing API server would: its Microservice's reconciles fail and are retried, so the
 * reconcile error and retry metrics have samples, not only their HELP lines.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../../operator/src/config.ts';
import { createOperator } from '../../../operator/src/operator.ts';
import { createLogger } from '../../../operator/src/runtime/log.ts';
import type { Manager } from '../../../operator/src/runtime/manager.ts';
import { minimalMicroservice } from '../../../operator/test/fixtures/microservices.ts';
import { MS, RC, startCluster, type TestCluster, TOPIC } from '../../../operator/test/support/cluster.ts';

const NS = 'souk-system';
/** The Microservice whose Deployment the API server refuses with a 500. */
export const FAILING_MICROSERVICE = 'unlucky';

export interface OperatorUnderTest {
  /** host:port of its /metrics. */
  metrics: string;
  stop(): Promise<void>;
}

function faultyProxy(upstream: URL, fails: (req: http.IncomingMessage) => boolean): http.Server {
  return http.createServer((req, res) => {
    if (fails(req)) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: 'etcdserver: request timed out',
          reason: 'InternalError',
          code: 500,
        }),
      );
      return;
    }
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
}

export async function startOperatorUnderTest(): Promise<OperatorUnderTest> {
  let cluster: TestCluster | undefined;
  let proxy: http.Server | undefined;
  let mgr: Manager | undefined;
  const stop = async () => {
    await mgr?.stop();
    if (proxy) {
      proxy.closeAllConnections();
      await new Promise((r) => proxy?.close(r));
    }
    await cluster?.stop();
  };
  try {
    cluster = await startCluster();
    const upstream = new URL(cluster.server.url);
    proxy = faultyProxy(
      upstream,
      (req) =>
        req.method === 'PATCH' &&
        (req.url ?? '').startsWith(`/apis/apps/v1/namespaces/${NS}/deployments/${FAILING_MICROSERVICE}`),
    );
    await new Promise<void>((r) => proxy?.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'souk-test',
          server: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'souk-test', token: 'souk-test-token' }],
      contexts: [{ name: 'souk-test', cluster: 'souk-test', user: 'souk-test', namespace: NS }],
      currentContext: 'souk-test',
    });
    mgr = createOperator(
      kc,
      {
        ...loadConfig({}),
        probePort: 0,
        leaderElect: true,
        leaseNamespace: NS,
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 200,
        workers: 2,
      },
      createLogger('souk-operator', 'silent'),
      { redisCluster: { progressIntervalMs: 500 } },
    );
    await mgr.start();
    await mgr.elected();
    for (const name of ['shop', 'catalog', FAILING_MICROSERVICE]) {
      await cluster.client.create({ ...minimalMicroservice(NS, name), ...MS } as never);
    }
    await cluster.client.create({
      ...TOPIC,
      metadata: { name: 'orders-events', namespace: NS },
      spec: { topicName: 'orders.events', partitions: 3, replicationFactor: 1 },
    } as never);
    await cluster.client.create({
      ...RC,
      metadata: { name: 'cache', namespace: NS },
      spec: { masters: 3, replicasPerMaster: 1, image: 'redis:7.2' },
    } as never);
    return { metrics: `127.0.0.1:${mgr.probePort}`, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
