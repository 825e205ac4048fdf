/**
 * Defaulting of built-in kinds (pkg/apis/<group>/v1/defaults.go): the fields a controller sees
 * appear on live objects even though it never set them, which matters for drift detection.
 */
import type { ResourceType } from './resources.ts';
import { isObject, type Json, type JsonObject } from './schema.ts';

function obj(parent: JsonObject, key: string): JsonObject {
  const v = parent[key];
  if (isObject(v)) return v;
  const o: JsonObject = {};
  parent[key] = o;
  return o;
}

function dflt(o: JsonObject, key: string, v: Json): void {
  if (o[key] === undefined || o[key] === null) o[key] = v;
}

function defaultContainer(c: JsonObject): void {
  dflt(c, 'terminationMessagePath', '/dev/termination-log');
  dflt(c, 'terminationMessagePolicy', 'File');
  const image = String(c.image ?? '');
  const tagged = /:[^/]+$/.test(image) || image.includes('@');
  dflt(c, 'imagePullPolicy', !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent');
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) dflt(p, 'protocol', 'TCP');
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const pr = c[probe];
    if (!isObject(pr)) continue;
    dflt(pr, 'timeoutSeconds', 1);
    dflt(pr, 'periodSeconds', 10);
    dflt(pr, 'successThreshold', 1);
    dflt(pr, 'failureThreshold', 3);
    if (isObject(pr.httpGet)) dflt(pr.httpGet, 'scheme', 'HTTP');
  }
  if (Array.isArray(c.env)) {
    for (const e of c.env) {
      if (isObject(e) && isObject(e.valueFrom) && isObject(e.valueFrom.fieldRef)) {
        dflt(e.valueFrom.fieldRef, 'apiVersion', 'v1');
      }
    }
  }
}

export function defaultPodSpec(ps: JsonObject): void {
  dflt(ps, 'restartPolicy', 'Always');
  dflt(ps, 'terminationGracePeriodSeconds', 30);
  dflt(ps, 'dnsPolicy', 'ClusterFirst');
  dflt(ps, 'securityContext', {});
  dflt(ps, 'schedulerName', 'default-scheduler');
  for (const key of ['containers', 'initContainers']) {
    const cs = ps[key];
    if (Array.isArray(cs)) for (const c of cs) if (isObject(c)) defaultContainer(c);
  }
  if (Array.isArray(ps.volumes)) {
    for (const v of ps.volumes) {
      if (!isObject(v)) continue;
      for (const src of ['configMap', 'secret']) if (isObject(v[src])) dflt(v[src], 'defaultMode', 420);
    }
  }
}

function defaultTemplate(spec: JsonObject): void {
  const tpl = obj(spec, 'template');
  obj(tpl, 'metadata');
  defaultPodSpec(obj(tpl, 'spec'));
}

export function applyBuiltinDefaults(t: ResourceType, o: JsonObject): void {
  const gk = `${t.group}/${t.kind}`;
  switch (gk) {
    case 'apps/Deployment': {
      const spec = obj(o, 'spec');
      dflt(spec, 'replicas', 1);
      dflt(spec, 'revisionHistoryLimit', 10);
      dflt(spec, 'progressDeadlineSeconds', 600);
      const strategy = obj(spec, 'strategy');
      dflt(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const ru = obj(strategy, 'rollingUpdate');
        dflt(ru, 'maxUnavailable', '25%');
        dflt(ru, 'maxSurge', '25%');
      }
      defaultTemplate(spec);
      break;
    }
    case 'apps/StatefulSet': {
      const spec = obj(o, 'spec');
      dflt(spec, 'replicas', 1);
      dflt(spec, 'revisionHistoryLimit', 10);
      dflt(spec, 'podManagementPolicy', 'OrderedReady');
      const us = obj(spec, 'updateStrategy');
      dflt(us, 'type', 'RollingUpdate');
      if (us.type === 'RollingUpdate') dflt(obj(us, 'rollingUpdate'), 'partition', 0);
      const ret = obj(spec, 'persistentVolumeClaimRetentionPolicy');
      dflt(ret, 'whenDeleted', 'Retain');
      dflt(ret, 'whenScaled', 'Retain');
      if (Array.isArray(spec.volumeClaimTemplates)) {
        for (const v of spec.volumeClaimTemplates) {
          if (!isObject(v)) continue;
          dflt(v, 'apiVersion', 'v1');
          dflt(v, 'kind', 'PersistentVolumeClaim');
          dflt(obj(v, 'spec'), 'volumeMode', 'Filesystem');
          dflt(v, 'status', { phase: 'Pending' });
        }
      }
      defaultTemplate(spec);
      break;
    }
    case 'apps/ReplicaSet':
    case 'apps/DaemonSet': {
      const spec = obj(o, 'spec');
      if (t.kind === 'ReplicaSet') dflt(spec, 'replicas', 1);
      defaultTemplate(spec);
      break;
    }
    case '/Pod': {
      defaultPodSpec(obj(o, 'spec'));
      break;
    }
    case '/Service': {
      const spec = obj(o, 'spec');
      dflt(spec, 'type', 'ClusterIP');
      dflt(spec, 'sessionAffinity', 'None');
      if (spec.type !== 'ExternalName') {
        dflt(spec, 'internalTrafficPolicy', 'Cluster');
        dflt(spec, 'ipFamilyPolicy', 'SingleStack');
        dflt(spec, 'ipFamilies', ['IPv4']);
      }
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          if (!isObject(p)) continue;
          dflt(p, 'protocol', 'TCP');
          dflt(p, 'targetPort', p.port ?? 0);
        }
      }
      break;
    }
    case '/Secret':
      dflt(o, 'type', 'Opaque');
      // stringData is write-only: merged into data (base64) when the Secret is decoded.
      if (isObject(o.stringData)) {
        const data = obj(o, 'data');
        for (const [k, v] of Object.entries(o.stringData))
          data[k] = Buffer.from(String(v)).toString('base64');
      }
      delete o.stringData;
      break;
    case '/Namespace': {
      const m = obj(o, 'metadata');
      const labels = obj(m, 'labels');
      labels['kubernetes.io/metadata.name'] = m.name as Json;
      break;
    }
    case 'autoscaling/HorizontalPodAutoscaler': {
      const spec = obj(o, 'spec');
      dflt(spec, 'minReplicas', 1);
      if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
        spec.metrics = [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ];
      }
      break;
    }
    case 'apiextensions.k8s.io/CustomResourceDefinition': {
      const spec = obj(o, 'spec');
      const names = obj(spec, 'names');
      dflt(names, 'singular', String(names.kind ?? '').toLowerCase());
      dflt(names, 'listKind', `${String(names.kind ?? '')}List`);
      dflt(spec, 'conversion', { strategy: 'None' });
      break;
    }
  }
}
