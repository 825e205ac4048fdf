/** Validation of CustomResourceDefinition objects themselves (a subset of apiextensions validation). */
import { type FieldError, invalid, notSupported, required } from './errors.ts';
import { isObject, type JSONSchemaProps, type Json, type JsonObject } from './schema.ts';
import { schemaCompileErrors, validateValue } from './validation.ts';

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});

/**
 * The structural schema rules that a CRD author most often breaks: a type on every specified
 * field and array item, map-lists with keys, and defaults that validate against their schema.
 */
function structuralErrors(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const typeExempt = (x: JSONSchemaProps) =>
    x['x-kubernetes-int-or-string'] === true || x['x-kubernetes-preserve-unknown-fields'] === true;
  const walk = (x: JSONSchemaProps, p: string) => {
    if (x['x-kubernetes-list-type'] === 'map') {
      const keys = x['x-kubernetes-list-map-keys'] ?? [];
      if (keys.length === 0) {
        errs.push(
          required(`${p}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'),
        );
      }
      if (x.items && x.items.type !== 'object') {
        errs.push(
          invalid(
            `${p}.items.type`,
            x.items.type ?? '',
            "must be object if parent array's x-kubernetes-list-type is map",
          ),
        );
      }
      for (const k of keys) {
        const prop = x.items?.properties?.[k];
        if (!prop) {
          errs.push(
            invalid(`${p}.x-kubernetes-list-map-keys`, keys, `entries must all be names of item properties`),
          );
        } else if (!(x.items?.required ?? []).includes(k) && prop.default === undefined) {
          errs.push(
            required(`${p}.items.properties[${k}]`, 'all map keys must be required or have a default value'),
          );
        }
      }
    }
    if (x.default !== undefined) {
      for (const e of validateValue(x.default as Json, { ...x, default: undefined }, '')) {
        errs.push({ ...e, field: `${p}.default${e.field ? `.${e.field}` : ''}` });
      }
    }
    for (const [k, prop] of Object.entries(x.properties ?? {})) {
      const pp = `${p}.properties[${k}]`;
      if (!prop.type && !typeExempt(prop))
        errs.push(required(`${pp}.type`, 'must not be empty for specified object fields'));
      walk(prop, pp);
    }
    if (isObject(x.additionalProperties)) {
      const ap = x.additionalProperties as JSONSchemaProps;
      if (!ap.type && !typeExempt(ap)) {
        errs.push(
          required(`${p}.additionalProperties.type`, 'must not be empty for specified object fields'),
        );
      }
      walk(ap, `${p}.additionalProperties`);
    }
    if (x.items) {
      if (!x.items.type && !typeExempt(x.items)) {
        errs.push(required(`${p}.items.type`, 'must not be empty for specified array items'));
      }
      walk(x.items, `${p}.items`);
    }
  };
  walk(s, path);
  return errs;
}

export function validateCrd(o: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(o.spec);
  const names = obj(spec.names);
  const group = spec.group as string | undefined;
  if (!group) errs.push(required('spec.group'));
  else if (!group.includes('.'))
    errs.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  if (!names.plural) errs.push(required('spec.names.plural'));
  if (!names.kind) errs.push(required('spec.names.kind'));
  const name = String(obj(o.metadata).name ?? '');
  if (names.plural && group && name !== `${String(names.plural)}.${group}`) {
    errs.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (!['Namespaced', 'Cluster'].includes(String(spec.scope))) {
    errs.push(notSupported('spec.scope', spec.scope ?? '', ['Cluster', 'Namespaced']));
  }
  const shortNames = Array.isArray(names.shortNames) ? names.shortNames : [];
  shortNames.forEach((s, i) => {
    if (typeof s !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s)) {
      errs.push(
        invalid(
          `spec.names.shortNames[${i}]`,
          s,
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
        ),
      );
    }
  });
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0)
    errs.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  const storage = versions.filter((v) => obj(v).storage === true);
  if (versions.length > 0 && storage.length !== 1) {
    errs.push(
      invalid('spec.versions', versions.length, 'must have exactly one version marked as storage version'),
    );
  }
  versions.forEach((v, i) => {
    const vo = obj(v);
    const schema = obj(obj(vo.schema).openAPIV3Schema);
    if (!isObject(obj(vo.schema).openAPIV3Schema)) {
      errs.push(required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
      return;
    }
    if (schema.type !== 'object') {
      errs.push(required(`spec.versions[${i}].schema.openAPIV3Schema.type`, 'must not be empty at the root'));
    }
    const root = schema as unknown as JSONSchemaProps;
    const path = `spec.versions[${i}].schema.openAPIV3Schema`;
    errs.push(...structuralErrors(root, path));
    errs.push(...schemaCompileErrors(root, path));
  });
  if (old) {
    const oldSpec = obj(old.spec);
    if (oldSpec.group !== spec.group)
      errs.push(invalid('spec.group', spec.group ?? '', 'field is immutable'));
    const oldNames = obj(oldSpec.names);
    if (oldNames.plural !== names.plural)
      errs.push(invalid('spec.names.plural', names.plural ?? '', 'field is immutable'));
  }
  return errs;
}
