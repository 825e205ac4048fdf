import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderCrds } from '../../src/api/crds.ts';
import { loadConfig, type OperatorConfig } from '../../src/config.ts';
import { createOperator } from '../../src/operator.ts';
import { KubeClient } from '../../src/runtime/client.ts';
import { createLogger } from '../../src/runtime/log.ts';
import type { Manager } from '../../src/runtime/manager.ts';
import type { KubeObject } from '../../src/runtime/object.ts';
import {
  type KubeApiServer,
  type KubeApiServerOptions,
  startKubeApiServer,
} from '../kube-api-server/server.ts';

export interface TestCluster {
  server: KubeApiServer;
  client: KubeClient;
  /** Path of a kubeconfig file for a spawned operator process. */
  kubeconfigPath: string;
  stop(): Promise<void>;
}

/** The Kubernetes API test server with Souk's CRDs installed (as crds/ holds them) and the given namespaces. */
export async function startCluster(opts: KubeApiServerOptions = {}): Promise<TestCluster> {
  const server = await startKubeApiServer({
    ...opts,
    namespaces: [...(opts.namespaces ?? []), 'souk-system'],
  });
  const client = new KubeClient(server.kubeConfig());
  for (const [name, text] of renderCrds()) {
    if (name === 'kustomization.yaml') continue;
    await client.create(parse(text) as KubeObject);
  }
  await eventually(async () => {
    for (const k of ['Microservice', 'Topic', 'RedisCluster']) {
      if (!(await client.serves({ apiVersion: 'souk.dev/v1alpha1', kind: k }))) return false;
    }
    return true;
  }, 'CRDs established');
  const dir = await mkdtemp(join(tmpdir(), 'souk-kubeconfig-'));
  const kubeconfigPath = join(dir, 'config');
  await writeFile(kubeconfigPath, server.kubeConfig().exportConfig());
  return {
    server,
    client,
    kubeconfigPath,
    async stop() {
      client.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The operator as main.ts builds it, in-process, with test-friendly settings. */
export async function startOperator(
  cluster: TestCluster,
  cfg: Partial<OperatorConfig> = {},
): Promise<Manager> {
  const mgr = createOperator(
    cluster.server.kubeConfig(),
    { ...loadConfig({}), probePort: 0, leaderElect: false, ...cfg },
    createLogger('souk-operator-test', process.env['LOG_LEVEL'] ?? 'silent'),
  );
  await mgr.start();
  if (!cfg.leaderElect) await mgr.elected();
  return mgr;
}

export async function eventually<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const MS = { apiVersion: 'souk.dev/v1alpha1', kind: 'Microservice' };
export const TOPIC = { apiVersion: 'souk.dev/v1alpha1', kind: 'Topic' };
export const RC = { apiVersion: 'souk.dev/v1alpha1', kind: 'RedisCluster' };
