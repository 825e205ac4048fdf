/**
 * events.k8s.io/v1 Events are the core/v1 Events under other field names: one storage, converted
 * on the way in and out, and validated with the stricter events.k8s.io/v1 rules.
 */
import { type FieldError, notSupported, required } from './errors.ts';
import { qualifiedName } from './names.ts';
import type { ResourceType } from './resources.ts';
import { isObject, type Json, type JsonObject } from './schema.ts';

const renames: Array<[events: string, core: string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

export function isEventsV1(t: ResourceType): boolean {
  return t.group === 'events.k8s.io' && t.kind === 'Event';
}

function rename(o: JsonObject, pairs: Array<[string, string]>): JsonObject {
  const out: JsonObject = {};
  const map = new Map(pairs);
  for (const [k, v] of Object.entries(o)) out[map.get(k) ?? k] = v as Json;
  return out;
}

export function eventToCore(o: JsonObject): JsonObject {
  const out = rename(o, renames);
  out.apiVersion = 'v1';
  return out;
}

export function eventFromCore(o: JsonObject): JsonObject {
  const out = rename(
    o,
    renames.map(([a, b]) => [b, a]),
  );
  out.apiVersion = 'events.k8s.io/v1';
  return out;
}

/** ValidateEventCreate for events.k8s.io/v1 (the core/v1 rules are the legacy, lenient ones). */
export function validateEvent(t: ResourceType, o: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const ns = isObject(o.metadata) ? o.metadata.namespace : undefined;
  const regarding = (isEventsV1(t) ? o.regarding : o.involvedObject) as Json | undefined;
  const regardingField = isEventsV1(t) ? 'regarding' : 'involvedObject';
  if (isObject(regarding) && regarding.namespace && ns && regarding.namespace !== ns) {
    errs.push({
      type: 'FieldValueInvalid',
      field: `${regardingField}.namespace`,
      badValue: regarding.namespace,
      detail: 'does not match event.namespace',
    });
  }
  if (!isEventsV1(t)) return errs;
  if (!o.eventTime) errs.push(required('eventTime'));
  if (o.type !== 'Normal' && o.type !== 'Warning')
    errs.push(notSupported('type', o.type ?? '', ['Normal', 'Warning']));
  if (!o.reportingController) errs.push(required('reportingController'));
  else
    for (const e of qualifiedName(String(o.reportingController)))
      errs.push({
        type: 'FieldValueInvalid',
        field: 'reportingController',
        badValue: o.reportingController,
        detail: e,
      });
  for (const f of ['reportingInstance', 'action', 'reason']) {
    const v = o[f];
    if (!v) errs.push(required(f));
    else if (String(v).length > 128)
      errs.push({
        type: 'FieldValueTooLong',
        field: f,
        badValue: v,
        detail: 'may not be more than 128 bytes',
      });
  }
  if (typeof o.note === 'string' && Buffer.byteLength(o.note) > 1024) {
    errs.push({
      type: 'FieldValueTooLong',
      field: 'note',
      badValue: o.note,
      detail: 'may not be more than 1024 bytes',
    });
  }
  return errs;
}
