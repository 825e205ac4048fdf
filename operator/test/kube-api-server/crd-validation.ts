/** Validation of CustomResourceDefinition objects themselves (a subset of apiextensions validation). */
import { type FieldError, invalid, notSupported, required } from './errors.ts';
import { isObject, type JSONSchemaProps, type Json, type JsonObject } from './schema.ts';
import { schemaCompileErrors } from './validation.ts';

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});

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
    errs.push(
      ...schemaCompileErrors(
        schema as unknown as JSONSchemaProps,
        `spec.versions[${i}].schema.openAPIV3Schema`,
      ),
    );
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
