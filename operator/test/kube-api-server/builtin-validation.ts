/**
 * Validation of object metadata for every kind, and of the built-in kinds an operator is likely to
 * trip over (Deployment, StatefulSet, Service, HPA, PDB, ConfigMap/Secret keys), with the paths and
 * messages of pkg/apis/<group>/validation.
 */
import { type FieldError, forbiddenField, invalid, notSupported, required } from './errors.ts';
import { dns1035Label, dns1123Label, dns1123Subdomain, labelValue, qualifiedName } from './names.ts';
import { parseQuantity, QUANTITY_FORMAT_ERROR } from './quantity.ts';
import type { ResourceType } from './resources.ts';
import { isObject, type Json, type JsonObject } from './schema.ts';

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function nameRule(t: ResourceType): (v: string) => string[] {
  if (t.group === '' && (t.kind === 'Namespace' || t.kind === 'Service')) {
    return t.kind === 'Service' ? dns1035Label : dns1123Label;
  }
  return dns1123Subdomain;
}

export function validateMetadata(t: ResourceType, o: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const m = obj(o.metadata);
  const name = m.name as string | undefined;
  if (!old) {
    if (!name && !m.generateName) errs.push(required('metadata.name', 'name or generateName is required'));
    if (name) for (const e of nameRule(t)(name)) errs.push(invalid('metadata.name', name, e));
  }
  if (t.namespaced && !m.namespace) errs.push(required('metadata.namespace'));
  if (!t.namespaced && m.namespace)
    errs.push(forbiddenField('metadata.namespace', 'not allowed on this type'));
  for (const [k, v] of Object.entries(obj(m.labels))) {
    for (const e of qualifiedName(k)) errs.push(invalid('metadata.labels', k, e));
    if (typeof v !== 'string') errs.push(invalid(`metadata.labels`, v, 'label values must be strings'));
    else for (const e of labelValue(v)) errs.push(invalid('metadata.labels', v, e));
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(obj(m.annotations))) {
    for (const e of qualifiedName(k.toLowerCase())) errs.push(invalid('metadata.annotations', k, e));
    annotationBytes += k.length + String(v).length;
  }
  if (annotationBytes > 256 * 1024) {
    errs.push({
      type: 'FieldValueTooLong',
      field: 'metadata.annotations',
      detail: 'may not be more than 262144 bytes',
    });
  }
  const refs = Array.isArray(m.ownerReferences) ? m.ownerReferences : [];
  let controllers = 0;
  refs.forEach((r, i) => {
    const ref = obj(r);
    for (const f of ['apiVersion', 'kind', 'name', 'uid']) {
      if (!ref[f])
        errs.push(invalid(`metadata.ownerReferences[${i}].${f}`, ref[f] ?? '', `${f} must not be empty`));
    }
    if (ref.controller === true) controllers++;
  });
  if (controllers > 1) {
    errs.push(
      invalid('metadata.ownerReferences', refs, 'Only one reference can have Controller set to true'),
    );
  }
  const finalizers = Array.isArray(m.finalizers) ? m.finalizers : [];
  finalizers.forEach((f, i) => {
    if (typeof f !== 'string') return;
    if (['kubernetes', 'orphan', 'foregroundDeletion'].includes(f)) return;
    for (const e of qualifiedName(f)) errs.push(invalid(`metadata.finalizers[${i}]`, f, e));
    if (!f.includes('/'))
      errs.push(
        invalid(
          `metadata.finalizers[${i}]`,
          f,
          'name is neither a standard finalizer name nor is it fully qualified',
        ),
      );
  });
  if (old) {
    const om = obj(old.metadata);
    if (om.deletionTimestamp) {
      const before = new Set(Array.isArray(om.finalizers) ? om.finalizers : []);
      const added = finalizers.filter((f) => !before.has(f));
      if (added.length > 0) {
        errs.push(
          forbiddenField(
            'metadata.finalizers',
            `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((a) => JSON.stringify(a)).join(', ')}}`,
          ),
        );
      }
    }
  }
  return errs;
}

function validateSelectorAndTemplate(
  spec: JsonObject,
  old: JsonObject | undefined,
  errs: FieldError[],
): void {
  const selector = spec.selector;
  if (!isObject(selector)) errs.push(required('spec.selector'));
  else {
    const ml = obj(selector.matchLabels);
    const me = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
    if (Object.keys(ml).length === 0 && me.length === 0) {
      errs.push(invalid('spec.selector', selector, 'empty selector is invalid for deployment'));
    }
    const labels = obj(obj(obj(spec.template).metadata).labels);
    const matches = Object.entries(ml).every(([k, v]) => labels[k] === v);
    if (!matches)
      errs.push(
        invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'),
      );
    if (old && !same(obj(old.spec).selector, selector))
      errs.push(invalid('spec.selector', selector, 'field is immutable'));
  }
  const replicas = spec.replicas;
  if (typeof replicas === 'number' && replicas < 0) {
    errs.push(invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  validatePodSpec(obj(obj(spec.template).spec), 'spec.template.spec', errs, isObject(spec.template));
}

function validatePodSpec(ps: JsonObject, path: string, errs: FieldError[], present = true): void {
  if (!present) {
    errs.push(required(`${path}.containers`));
    return;
  }
  const containers = Array.isArray(ps.containers) ? ps.containers : [];
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const co = obj(c);
    const p = `${path}.containers[${i}]`;
    if (!co.name) errs.push(required(`${p}.name`));
    else {
      for (const e of dns1123Label(String(co.name))) errs.push(invalid(`${p}.name`, co.name, e));
      if (names.has(String(co.name)))
        errs.push({ type: 'FieldValueDuplicate', field: `${p}.name`, badValue: co.name });
      names.add(String(co.name));
    }
    if (!co.image) errs.push(required(`${p}.image`));
    (Array.isArray(co.env) ? co.env : []).forEach((e, j) => {
      const name = obj(e).name;
      if (typeof name === 'string' && !/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
        errs.push(
          invalid(
            `${p}.env[${j}].name`,
            name,
            "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
          ),
        );
      }
    });
    validateResources(obj(co.resources), `${p}.resources`, errs);
    const ports = Array.isArray(co.ports) ? co.ports : [];
    ports.forEach((pt, j) => {
      const cp = obj(pt).containerPort;
      if (typeof cp !== 'number' || cp < 1 || cp > 65535) {
        errs.push(
          invalid(`${p}.ports[${j}].containerPort`, cp ?? 0, 'must be between 1 and 65535, inclusive'),
        );
      }
    });
  });
}

function validateResources(r: JsonObject, path: string, errs: FieldError[]): void {
  const limits = obj(r.limits);
  const requests = obj(r.requests);
  for (const [field, m] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const [k, v] of Object.entries(m)) {
      const q = parseQuantity(v);
      if (q === undefined) errs.push(invalid(`${path}.${field}[${k}]`, v, QUANTITY_FORMAT_ERROR));
      else if (q < 0) errs.push(invalid(`${path}.${field}[${k}]`, v, 'must be greater than or equal to 0'));
    }
  }
  for (const [k, v] of Object.entries(requests)) {
    const req = parseQuantity(v);
    const lim = parseQuantity(limits[k]);
    if (req !== undefined && lim !== undefined && req > lim) {
      errs.push(
        invalid(
          `${path}.requests`,
          String(v),
          `must be less than or equal to ${k} limit of ${String(limits[k])}`,
        ),
      );
    }
  }
}

function validateStrategy(spec: JsonObject, errs: FieldError[]): void {
  const strategy = obj(spec.strategy);
  const ru = strategy.rollingUpdate;
  if (strategy.type === 'Recreate' && ru !== undefined && ru !== null) {
    errs.push({
      type: 'FieldValueForbidden',
      field: 'spec.strategy.rollingUpdate',
      detail: "may not be specified when strategy `type` is 'Recreate'",
    });
  }
  if (isObject(ru)) {
    const zero = (v: Json | undefined) => v === 0 || v === '0%';
    if (zero(ru.maxUnavailable) && zero(ru.maxSurge)) {
      errs.push(
        invalid(
          'spec.strategy.rollingUpdate.maxUnavailable',
          ru.maxUnavailable,
          'may not be 0 when `maxSurge` is 0',
        ),
      );
    }
  }
}

function validateMetricTarget(t: JsonObject, path: string, errs: FieldError[]): void {
  const type = t.type;
  if (!type) {
    errs.push(required(`${path}.type`, 'must specify a metric target type'));
    return;
  }
  if (type === 'Utilization' && t.averageUtilization === undefined) {
    errs.push(
      required(`${path}.averageUtilization`, 'must populate averageUtilization when using Utilization type'),
    );
  }
  if (type === 'Value' && t.value === undefined) {
    errs.push(required(`${path}.value`, 'must populate value when using Value type'));
  }
  if (type === 'AverageValue' && t.averageValue === undefined) {
    errs.push(required(`${path}.averageValue`, 'must populate averageValue when using AverageValue type'));
  }
  if (typeof t.averageUtilization === 'number' && t.averageUtilization < 1) {
    errs.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  }
}

function validateService(o: JsonObject, old: JsonObject | undefined, errs: FieldError[]): void {
  const spec = obj(o.spec);
  const type = (spec.type as string | undefined) ?? 'ClusterIP';
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type)) {
    errs.push(notSupported('spec.type', type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
  }
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && spec.clusterIP !== 'None' && type !== 'ExternalName')
    errs.push(required('spec.ports'));
  ports.forEach((p, i) => {
    const po = obj(p);
    if (ports.length > 1 && !po.name) errs.push(required(`spec.ports[${i}].name`));
    if (typeof po.port !== 'number' || po.port < 1 || po.port > 65535) {
      errs.push(invalid(`spec.ports[${i}].port`, po.port ?? 0, 'must be between 1 and 65535, inclusive'));
    }
  });
  if (old) {
    const oldIp = obj(old.spec).clusterIP;
    if (oldIp && spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== oldIp) {
      errs.push(invalid('spec.clusterIP', spec.clusterIP, 'field is immutable'));
    }
  }
}

function validateHpa(o: JsonObject, errs: FieldError[]): void {
  const spec = obj(o.spec);
  const ref = obj(spec.scaleTargetRef);
  if (!ref.kind) errs.push(required('spec.scaleTargetRef.kind'));
  if (!ref.name) errs.push(required('spec.scaleTargetRef.name'));
  const min = spec.minReplicas as number | undefined;
  const max = spec.maxReplicas as number | undefined;
  if (typeof min === 'number' && min < 1)
    errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (typeof max !== 'number') errs.push(required('spec.maxReplicas'));
  else {
    if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
    if (typeof min === 'number' && max < min) {
      errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
    }
  }
  const metrics = Array.isArray(spec.metrics) ? spec.metrics : [];
  metrics.forEach((m, i) => {
    const mt = obj(m).type;
    if (mt === 'Resource' || mt === 'ContainerResource') {
      const src = obj(obj(m)[mt === 'Resource' ? 'resource' : 'containerResource']);
      const base = `spec.metrics[${i}].${mt === 'Resource' ? 'resource' : 'containerResource'}`;
      if (!src.name) errs.push(required(`${base}.name`, 'must specify a resource name'));
      validateMetricTarget(obj(src.target), `${base}.target`, errs);
    }
    if (!['Object', 'Pods', 'Resource', 'ContainerResource', 'External'].includes(String(mt))) {
      errs.push(
        notSupported(`spec.metrics[${i}].type`, mt ?? '', [
          'ContainerResource',
          'External',
          'Object',
          'Pods',
          'Resource',
        ]),
      );
    }
  });
}

function validatePdb(o: JsonObject, errs: FieldError[]): void {
  const spec = obj(o.spec);
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const f of ['minAvailable', 'maxUnavailable']) {
    const v = spec[f];
    if (typeof v === 'number' && v < 0)
      errs.push(invalid(`spec.${f}`, v, 'must be greater than or equal to 0'));
    if (typeof v === 'string' && !/^\d+%$/.test(v))
      errs.push(
        invalid(
          `spec.${f}`,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
  }
}

const configKey = /^[-._a-zA-Z0-9]+$/;

function validateDataKeys(o: JsonObject, fields: string[], errs: FieldError[]): void {
  for (const f of fields) {
    for (const k of Object.keys(obj(o[f]))) {
      if (!configKey.test(k) || k.length > 253) {
        errs.push(
          invalid(
            `${f}`,
            k,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
          ),
        );
      }
    }
  }
}

const MAX_SIZE = 1024 * 1024;

function validateSize(o: JsonObject, errs: FieldError[]): void {
  let size = 0;
  for (const f of ['data', 'binaryData']) {
    for (const [k, v] of Object.entries(obj(o[f]))) size += k.length + String(v).length;
  }
  if (size > MAX_SIZE) {
    errs.push({ type: 'FieldValueTooLong', field: 'data', detail: `may not be more than ${MAX_SIZE} bytes` });
  }
}

function validateImmutable(o: JsonObject, old: JsonObject | undefined, errs: FieldError[]): void {
  if (old?.immutable !== true) return;
  if (!same(old.data, o.data) || !same(old.binaryData, o.binaryData)) {
    errs.push(forbiddenField('data', 'field is immutable when `immutable` is set'));
  }
  if (o.immutable !== true)
    errs.push(forbiddenField('immutable', 'field is immutable when `immutable` is set'));
}

export function validateBuiltin(t: ResourceType, o: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const gk = `${t.group}/${t.kind}`;
  switch (gk) {
    case 'apps/Deployment':
    case 'apps/StatefulSet':
    case 'apps/ReplicaSet':
    case 'apps/DaemonSet':
      validateSelectorAndTemplate(obj(o.spec), old, errs);
      if (t.kind === 'Deployment') validateStrategy(obj(o.spec), errs);
      break;
    case '/Pod':
      validatePodSpec(obj(o.spec), 'spec', errs);
      break;
    case '/Service':
      validateService(o, old, errs);
      break;
    case 'autoscaling/HorizontalPodAutoscaler':
      validateHpa(o, errs);
      break;
    case 'policy/PodDisruptionBudget':
      validatePdb(o, errs);
      break;
    case '/ConfigMap':
      validateDataKeys(o, ['data', 'binaryData'], errs);
      validateSize(o, errs);
      validateImmutable(o, old, errs);
      break;
    case '/Secret':
      validateDataKeys(o, ['data'], errs);
      validateSize(o, errs);
      validateImmutable(o, old, errs);
      for (const [k, v] of Object.entries(obj(o.data))) {
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
          errs.push(invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
      }
      if (old && old.type !== undefined && o.type !== old.type)
        errs.push(invalid('type', o.type, 'field is immutable'));
      break;
    case 'coordination.k8s.io/Lease': {
      const d = obj(o.spec).leaseDurationSeconds;
      if (typeof d === 'number' && d <= 0)
        errs.push(invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
      break;
    }
  }
  return errs;
}
