import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from './config.ts';
import { createOperator } from './operator.ts';
import { createLogger } from './runtime/log.ts';

const log = createLogger('souk-operator');
const cfg = loadConfig();
const kc = new KubeConfig();
// KUBECONFIG / ~/.kube/config when present, the pod's service account otherwise.
kc.loadFromDefault();

const mgr = createOperator(kc, cfg, log);
mgr.handleSignals();
mgr.onLostLeadership(() => {
  log.error('lost leadership, exiting so a fresh process campaigns with fresh caches');
  process.exit(1);
});
try {
  await mgr.start();
  log.info({ probePort: mgr.probePort, leaderElect: cfg.leaderElect }, 'operator started');
} catch (e) {
  log.fatal({ err: (e as Error).message }, 'operator failed to start');
  process.exit(1);
}
