/**
 * Custom resources against their CRD's structural schema, in the API server's order: prune unknown
 * fields, apply defaults, then validate (types, formats, bounds, enums, required) and run CEL rules.
 * Error paths and messages follow the apiextensions-apiserver's.
 */
import { compileError, evaluate, evaluateMessage, isTransitionRule } from './cel.ts';
import { type FieldError, invalid, notSupported, required, tooMany, typeInvalid } from './errors.ts';
import { clone } from './patch.ts';
import { isObject, type JSONSchemaProps, type Json, type JsonObject } from './schema.ts';

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function preserves(s: JSONSchemaProps): boolean {
  return s['x-kubernetes-preserve-unknown-fields'] === true;
}

/**
 * Removes fields the schema does not know, unless x-kubernetes-preserve-unknown-fields; the
 * removed paths are collected (they become warnings, or a 400 with fieldValidation=Strict).
 */
export function prune(
  v: Json | undefined,
  s: JSONSchemaProps | undefined,
  path = '',
  removed: string[] = [],
): string[] {
  if (!s) return removed;
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      prune(item, s.items, `${path}[${i}]`, removed);
    });
    return removed;
  }
  if (!isObject(v)) return removed;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  for (const k of Object.keys(v)) {
    if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const prop = s.properties?.[k];
    if (prop) prune(v[k], prop, childPath(path, k), removed);
    else if (isObject(s.additionalProperties)) {
      prune(v[k], s.additionalProperties as JSONSchemaProps, childPath(path, k), removed);
    } else if (s.additionalProperties === true || preserves(s)) continue;
    else {
      delete v[k];
      removed.push(childPath(path, k));
    }
  }
  return removed;
}

/** Applies `default`s top-down; a defaulted object gets its own nested defaults too. */
export function applyDefaults(v: Json | undefined, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(v)) {
    for (const item of v) applyDefaults(item, s.items);
    return;
  }
  if (!isObject(v)) return;
  for (const [k, prop] of Object.entries(s.properties ?? {})) {
    if (v[k] === null && !prop.nullable && prop.default !== undefined) delete v[k];
    if (v[k] === undefined && prop.default !== undefined) v[k] = clone(prop.default as Json);
    if (v[k] !== undefined) applyDefaults(v[k], prop);
  }
  if (isObject(s.additionalProperties)) {
    for (const k of Object.keys(v)) {
      if (s.properties?.[k]) continue;
      applyDefaults(v[k], s.additionalProperties as JSONSchemaProps);
    }
  }
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: Json, s: JSONSchemaProps): boolean {
  if (s['x-kubernetes-int-or-string'])
    return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  switch (s.type) {
    case undefined:
      return true;
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

const formats: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/,
  byte: /^[A-Za-z0-9+/]*={0,2}$/,
};

/** OpenAPI validation of one value, like kube-openapi's validator wired into the apiextensions apiserver. */
export function validateValue(v: Json, s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (v === null) {
    if (s.nullable) return errs;
    if (s.type || s['x-kubernetes-int-or-string']) {
      errs.push(typeInvalid(path, v, `${path} in body must be of type ${s.type ?? 'string'}: "null"`));
    }
    return errs;
  }
  if (!matchesType(v, s)) {
    const want = s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type;
    errs.push(typeInvalid(path, v, `${path} in body must be of type ${want}: "${typeName(v)}"`));
    return errs;
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    errs.push(notSupported(path, v, s.enum));
  }
  if (typeof v === 'number') {
    if (s.maximum !== undefined) {
      if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)
        errs.push(
          invalid(
            path,
            v,
            `${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`,
          ),
        );
    }
    if (s.minimum !== undefined) {
      if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)
        errs.push(
          invalid(
            path,
            v,
            `${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`,
          ),
        );
    }
    if (s.multipleOf !== undefined && v % s.multipleOf !== 0) {
      errs.push(invalid(path, v, `${path} in body should be a multiple of ${s.multipleOf}`));
    }
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.maxLength !== undefined && len > s.maxLength) {
      errs.push({
        type: 'FieldValueTooLong',
        field: path,
        badValue: v,
        detail: `may not be more than ${s.maxLength} bytes`,
      });
    }
    if (s.minLength !== undefined && len < s.minLength) {
      errs.push(invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`));
    }
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) {
      errs.push(invalid(path, v, `${path} in body should match '${s.pattern}'`));
    }
    if (s.format && formats[s.format] && !formats[s.format]!.test(v)) {
      errs.push(invalid(path, v, `${path} in body must be of type ${s.format}: ${JSON.stringify(v)}`));
    }
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(tooMany(path, v.length, s.maxItems));
    if (s.minItems !== undefined && v.length < s.minItems) {
      errs.push(invalid(path, v, `${path} in body should have at least ${s.minItems} items`));
    }
    const listType = s['x-kubernetes-list-type'];
    if (s.uniqueItems || listType === 'set') {
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const k = JSON.stringify(item);
        if (seen.has(k)) errs.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, badValue: item });
        seen.add(k);
      });
    }
    if (listType === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      v.forEach((item, i) => {
        if (!isObject(item)) return;
        const k = JSON.stringify(keys.map((key) => item[key]));
        if (seen.has(k)) {
          const shown: JsonObject = {};
          for (const key of keys) shown[key] = item[key] as Json;
          errs.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, badValue: shown });
        }
        seen.add(k);
      });
    }
    if (s.items) {
      v.forEach((item, i) => {
        errs.push(...validateValue(item, s.items!, `${path}[${i}]`));
      });
    }
  }
  if (isObject(v)) {
    for (const r of s.required ?? []) if (v[r] === undefined) errs.push(required(childPath(path, r), ''));
    const n = Object.keys(v).length;
    if (s.maxProperties !== undefined && n > s.maxProperties) errs.push(tooMany(path, n, s.maxProperties));
    if (s.minProperties !== undefined && n < s.minProperties) {
      errs.push(invalid(path, v, `${path} in body should have at least ${s.minProperties} properties`));
    }
    for (const [k, x] of Object.entries(v)) {
      const prop = s.properties?.[k];
      if (prop) errs.push(...validateValue(x, prop, childPath(path, k)));
      else if (isObject(s.additionalProperties)) {
        errs.push(...validateValue(x, s.additionalProperties as JSONSchemaProps, childPath(path, k)));
      }
    }
  }
  for (const sub of s.allOf ?? []) errs.push(...validateValue(v, sub, path));
  if (s.anyOf && !s.anyOf.some((sub) => validateValue(v, sub, path).length === 0)) {
    errs.push(invalid(path, v, `${path} in body must validate at least one schema (anyOf)`));
  }
  if (s.oneOf && s.oneOf.filter((sub) => validateValue(v, sub, path).length === 0).length !== 1) {
    errs.push(invalid(path, v, `${path} in body must validate one and only one schema (oneOf)`));
  }
  if (s.not && validateValue(v, s.not, path).length === 0) {
    errs.push(invalid(path, v, `${path} in body should not validate the schema (not)`));
  }
  return errs;
}

function celTypeName(v: Json, s: JSONSchemaProps): string {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' ? 'string' : 'integer';
  return s.type ?? typeName(v);
}

function reasonError(reason: string | undefined, field: string, value: string, detail: string): FieldError {
  switch (reason) {
    case 'FieldValueForbidden':
      return { type: 'FieldValueForbidden', field, detail };
    case 'FieldValueRequired':
      return { type: 'FieldValueRequired', field, detail };
    case 'FieldValueDuplicate':
      return { type: 'FieldValueDuplicate', field, badValue: value, detail };
    default:
      return invalid(field, value, detail);
  }
}

function fieldPathJoin(base: string, rel: string): string {
  const r = rel.startsWith('.') ? rel.slice(1) : rel;
  return base ? `${base}.${r}` : r;
}

/** Runs x-kubernetes-validations at every node present in the object. */
export function validateCel(
  v: Json | undefined,
  old: Json | undefined,
  s: JSONSchemaProps,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (v === undefined) return errs;
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    const transition = isTransitionRule(rule.rule);
    if (transition && old === undefined) continue;
    const out = evaluate(rule.rule, v, transition ? old : undefined, s);
    if (out.ok) continue;
    const field = rule.fieldPath ? fieldPathJoin(path, rule.fieldPath) : path;
    if ('error' in out) {
      errs.push(invalid(field, celTypeName(v, s), out.error));
      continue;
    }
    let message = rule.message ?? `failed rule: ${rule.rule}`;
    if (rule.messageExpression) message = evaluateMessage(rule.messageExpression, v, s) ?? message;
    errs.push(reasonError(rule.reason, field, celTypeName(v, s), message));
  }
  if (Array.isArray(v) && s.items) {
    const listType = s['x-kubernetes-list-type'];
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    v.forEach((item, i) => {
      let oldItem: Json | undefined;
      if (Array.isArray(old) && listType === 'map' && isObject(item)) {
        oldItem = old.find(
          (o) => isObject(o) && keys.every((k) => JSON.stringify(o[k]) === JSON.stringify(item[k])),
        );
      } else if (Array.isArray(old) && listType === 'set') {
        oldItem = old.find((o) => JSON.stringify(o) === JSON.stringify(item));
      }
      errs.push(...validateCel(item, oldItem, s.items!, `${path}[${i}]`));
    });
  }
  if (isObject(v)) {
    const o = isObject(old) ? old : undefined;
    for (const [k, x] of Object.entries(v)) {
      const prop =
        s.properties?.[k] ??
        (isObject(s.additionalProperties) ? (s.additionalProperties as JSONSchemaProps) : undefined);
      if (prop) errs.push(...validateCel(x, o?.[k], prop, childPath(path, k)));
    }
  }
  return errs;
}

/** The root of a custom resource: only the schema's fields besides apiVersion, kind and metadata. */
export function validateCustomResource(
  obj: JsonObject,
  old: JsonObject | undefined,
  schema: JSONSchemaProps,
): FieldError[] {
  const body: JsonObject = { ...obj };
  delete body.apiVersion;
  delete body.kind;
  delete body.metadata;
  const rootSchema: JSONSchemaProps = { ...schema, properties: { ...schema.properties } };
  delete rootSchema.properties!.metadata;
  delete rootSchema.properties!.apiVersion;
  delete rootSchema.properties!.kind;
  const errs = validateValue(
    body,
    { ...rootSchema, required: (schema.required ?? []).filter((r) => r !== 'metadata') },
    '',
  );
  if (errs.length > 0) return errs;
  let oldBody: JsonObject | undefined;
  if (old) {
    oldBody = { ...old };
    delete oldBody.metadata;
  }
  const withMeta: JsonObject = { ...body, ...(obj.metadata ? { metadata: obj.metadata } : {}) };
  return validateCel(
    withMeta,
    oldBody ? { ...oldBody, metadata: old!.metadata as Json } : undefined,
    schema,
    '',
  );
}

/** Schema-level problems reported when a CRD is created: CEL rules that do not compile. */
export function schemaCompileErrors(s: JSONSchemaProps | undefined, path: string): FieldError[] {
  if (!s) return [];
  const errs: FieldError[] = [];
  (s['x-kubernetes-validations'] ?? []).forEach((r, i) => {
    const err = compileError(r.rule);
    if (err)
      errs.push(invalid(`${path}.x-kubernetes-validations[${i}].rule`, r.rule, `compilation failed: ${err}`));
  });
  for (const [k, p] of Object.entries(s.properties ?? {}))
    errs.push(...schemaCompileErrors(p, `${path}.properties[${k}]`));
  if (s.items) errs.push(...schemaCompileErrors(s.items, `${path}.items`));
  if (isObject(s.additionalProperties)) {
    errs.push(
      ...schemaCompileErrors(s.additionalProperties as JSONSchemaProps, `${path}.additionalProperties`),
    );
  }
  return errs;
}
