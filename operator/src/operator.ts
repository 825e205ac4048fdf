import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorConfig } from './config.ts';
import { MANAGED_SELECTOR } from './controllers/labels.ts';
import { microserviceController, OWNED } from './controllers/microservice/controller.ts';
import {
  WATCHED as REDIS_WATCHED,
  type RedisClusterControllerOptions,
  redisClusterController,
} from './controllers/rediscluster/controller.ts';
import { topicController } from './controllers/topic/controller.ts';
import { Manager } from './runtime/manager.ts';
import { gvkKey } from './runtime/resources.ts';

/**
 * The operator: one Manager with every controller registered on it. Shared by main.ts and by tests that run
 * the operator in-process. A new controller is one more `mgr.add(...)` line here.
 */
export function createOperator(
  kubeConfig: KubeConfig,
  cfg: OperatorConfig,
  log?: Logger,
  overrides: { redisCluster?: RedisClusterControllerOptions } = {},
): Manager {
  const selectors: Record<string, string> = {};
  // Children are only watched when they carry the operator's label: the caches stay small on big clusters.
  for (const g of [...OWNED, ...REDIS_WATCHED]) selectors[gvkKey(g)] = MANAGED_SELECTOR;
  const mgr = new Manager({
    kubeConfig,
    name: 'souk-operator',
    namespace: cfg.watchNamespace,
    selectors,
    resyncMs: cfg.resyncMs,
    probePort: cfg.probePort,
    log,
    processMetrics: true,
    leaderElection: cfg.leaderElect
      ? {
          namespace: cfg.leaseNamespace,
          name: cfg.leaseName,
          identity: cfg.identity,
          leaseDurationMs: cfg.leaseDurationMs,
          renewDeadlineMs: cfg.renewDeadlineMs,
          retryPeriodMs: cfg.retryPeriodMs,
        }
      : undefined,
  });
  mgr.add(microserviceController(mgr, { defaultBootstrapServers: cfg.kafkaBootstrap, workers: cfg.workers }));
  mgr.add(topicController(mgr, { defaultBootstrapServers: cfg.kafkaBootstrap }));
  mgr.add(redisClusterController(mgr, overrides.redisCluster));
  return mgr;
}
