import type { Condition } from '../../api/v1alpha1/meta.ts';
import type { Microservice, MicroserviceStatus } from '../../api/v1alpha1/microservice.ts';
import { type ConditionInput, getCondition, setConditions } from '../../runtime/conditions.ts';
import type { KubeObject } from '../../runtime/object.ts';

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

type Deployment = KubeObject & { spec?: { replicas?: number }; status?: DeploymentStatus };

/** Something that keeps the Microservice from being Ready that is not a rollout in progress. */
export interface Blocker {
  reason: string;
  message: string;
}

/**
 * The status of a Microservice, derived from its Deployment (as last applied or seen):
 * - Available mirrors the Deployment's Available condition (minimum replicas up);
 * - Progressing is True while a rollout is under way (new template not fully rolled out), False once complete;
 * - Ready is True when the current generation is fully rolled out and available, and nothing blocks it.
 * `current` says whether the Deployment already carries this generation's template.
 */
export function computeStatus(
  ms: Microservice,
  dep: Deployment | undefined,
  current: boolean,
  configHash: string,
  blocker: Blocker | undefined,
  now = new Date(),
): MicroserviceStatus {
  const gen = ms.metadata.generation;
  const s = dep?.status ?? {};
  const want = dep?.spec?.replicas ?? ms.spec.replicas;
  const replicas = s.replicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const depCond = (t: string) => s.conditions?.find((c) => c.type === t);

  const observed = dep !== undefined && (s.observedGeneration ?? 0) >= (dep.metadata.generation ?? 0);
  const rolledOut = current && observed && updated === want && replicas === want && available === want;
  const deadline = depCond('Progressing');
  const stalled = deadline?.status === 'False' && deadline.reason === 'ProgressDeadlineExceeded';

  const avail = depCond('Available');
  const conditions: ConditionInput[] = [
    dep
      ? {
          type: 'Available',
          status: avail?.status === 'True' ? 'True' : avail?.status === 'False' ? 'False' : 'Unknown',
          reason: avail?.reason || (avail ? 'DeploymentCondition' : 'Pending'),
          message: avail?.message || `${available}/${want} replicas available`,
        }
      : {
          type: 'Available',
          status: 'False',
          reason: 'DeploymentNotFound',
          message: 'the Deployment does not exist yet',
        },
    blocker && !rolledOut
      ? { type: 'Progressing', status: 'False', reason: blocker.reason, message: blocker.message }
      : stalled
        ? {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: deadline?.message || 'the rollout exceeded its progress deadline',
          }
        : rolledOut
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'RolloutComplete',
              message: `${want} replicas up to date`,
            }
          : {
              type: 'Progressing',
              status: 'True',
              reason: 'RollingOut',
              message: `${updated}/${want} replicas updated, ${ready} ready`,
            },
  ];
  if (blocker) {
    conditions.push({ type: 'Ready', status: 'False', reason: blocker.reason, message: blocker.message });
  } else if (rolledOut && avail?.status !== 'False') {
    conditions.push({
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: `${ready}/${want} replicas ready`,
    });
  } else {
    conditions.push({
      type: 'Ready',
      status: 'False',
      reason: stalled ? 'ProgressDeadlineExceeded' : 'RollingOut',
      message: `waiting for the rollout: ${updated}/${want} updated, ${available}/${want} available`,
    });
  }

  const status: MicroserviceStatus = {
    observedGeneration: gen,
    replicas,
    readyReplicas: ready,
    updatedReplicas: updated,
    availableReplicas: available,
    configHash,
    conditions: setConditions(ms.status?.conditions as Condition[] | undefined, conditions, gen, now),
  };
  return status;
}

export const isReady = (ms: { status?: MicroserviceStatus }) =>
  getCondition(ms.status?.conditions, 'Ready')?.status === 'True';
