/**
 * The structural OpenAPI v3 schema of CustomResourceDefinitions, and the "shape" of any object:
 * which lists are atomic, sets or maps keyed by fields, which objects are structs, granular maps or
 * atomic. Server-side apply, strategic merge patch and managedFields all read the shape.
 */

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
  optionalOldSelf?: boolean;
}

export interface JSONSchemaProps {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  'x-kubernetes-validations'?: ValidationRule[];
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface Shape {
  /** struct: declared fields; map: free keys (granular); atomic: replaced and owned as a whole. */
  objectKind: 'struct' | 'map' | 'atomic';
  listType: 'atomic' | 'set' | 'map';
  listKeys: string[];
  /** Defaults of key fields: an item without one is keyed by the default (ports: protocol TCP). */
  listKeyDefaults: Record<string, Json>;
  field(name: string): Shape;
  item(): Shape;
  hasField(name: string): boolean;
}

const metadataMaps = new Set(['labels', 'annotations']);

/** Built-in kinds: the list/map semantics of the Kubernetes Go types (+listType/+listMapKey/+mapType tags). */
class BuiltinShape implements Shape {
  constructor(
    private readonly path: string[],
    readonly objectKind: 'struct' | 'map' | 'atomic' = 'struct',
  ) {}

  get listType(): 'atomic' | 'set' | 'map' {
    const name = this.path[this.path.length - 1];
    switch (name) {
      case 'finalizers':
        return 'set';
      case 'containers':
      case 'initContainers':
      case 'ephemeralContainers':
      case 'env':
      case 'volumes':
      case 'volumeMounts':
      case 'imagePullSecrets':
      case 'ports':
      case 'conditions':
      case 'ownerReferences':
      case 'topologySpreadConstraints':
        return 'map';
      default:
        return 'atomic';
    }
  }

  get listKeys(): string[] {
    const name = this.path[this.path.length - 1];
    const parent = this.path[this.path.length - 2];
    switch (name) {
      case 'volumeMounts':
        return ['mountPath'];
      case 'ports':
        return parent === 'spec' && this.path.length === 2
          ? ['port', 'protocol']
          : ['containerPort', 'protocol'];
      case 'conditions':
        return ['type'];
      case 'ownerReferences':
        return ['uid'];
      case 'topologySpreadConstraints':
        return ['topologyKey', 'whenUnsatisfiable'];
      default:
        return ['name'];
    }
  }

  get listKeyDefaults(): Record<string, Json> {
    return this.path[this.path.length - 1] === 'ports' ? { protocol: 'TCP' } : {};
  }

  field(name: string): Shape {
    const path = [...this.path, name];
    const parent = this.path[this.path.length - 1];
    if (parent === 'metadata' && metadataMaps.has(name)) return new BuiltinShape(path, 'map');
    if (['data', 'stringData', 'binaryData', 'matchLabels', 'limits', 'requests'].includes(name))
      return new BuiltinShape(path, 'map');
    if (name === 'selector' || name === 'nodeSelector' || name === 'roleRef')
      return new BuiltinShape(path, 'atomic');
    return new BuiltinShape(path, 'struct');
  }

  item(): Shape {
    return new BuiltinShape([...this.path, '[]'], 'struct');
  }

  hasField(_name: string): boolean {
    return this.objectKind === 'struct';
  }
}

export function builtinShape(): Shape {
  return new BuiltinShape([]);
}

/** Custom resources: the CRD schema's x-kubernetes-* extensions; metadata as for built-ins. */
class SchemaShape implements Shape {
  constructor(private readonly s: JSONSchemaProps | undefined) {}

  get objectKind(): 'struct' | 'map' | 'atomic' {
    const s = this.s;
    if (!s) return 'map';
    if (s['x-kubernetes-map-type'] === 'atomic') return 'atomic';
    if (s.properties && Object.keys(s.properties).length > 0) return 'struct';
    return 'map';
  }

  get listType(): 'atomic' | 'set' | 'map' {
    return this.s?.['x-kubernetes-list-type'] ?? 'atomic';
  }

  get listKeys(): string[] {
    return this.s?.['x-kubernetes-list-map-keys'] ?? [];
  }

  get listKeyDefaults(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const k of this.listKeys) {
      const d = this.s?.items?.properties?.[k]?.default;
      if (d !== undefined) out[k] = d as Json;
    }
    return out;
  }

  field(name: string): Shape {
    const s = this.s;
    if (!s) return new SchemaShape(undefined);
    const declared = s.properties?.[name];
    if (declared) return new SchemaShape(declared);
    if (isObject(s.additionalProperties)) return new SchemaShape(s.additionalProperties as JSONSchemaProps);
    return new SchemaShape(undefined);
  }

  item(): Shape {
    return new SchemaShape(this.s?.items);
  }

  hasField(name: string): boolean {
    return !!this.s?.properties?.[name];
  }
}

class CustomRootShape implements Shape {
  readonly objectKind = 'struct' as const;
  readonly listType = 'atomic' as const;
  readonly listKeys: string[] = [];
  readonly listKeyDefaults: Record<string, Json> = {};
  constructor(private readonly schema: JSONSchemaProps | undefined) {}
  field(name: string): Shape {
    if (name === 'metadata') return builtinShape().field('metadata');
    return new SchemaShape(this.schema).field(name);
  }
  item(): Shape {
    return new SchemaShape(undefined);
  }
  hasField(name: string): boolean {
    return (
      name === 'metadata' || name === 'apiVersion' || name === 'kind' || !!this.schema?.properties?.[name]
    );
  }
}

export function customShape(schema: JSONSchemaProps | undefined): Shape {
  return new CustomRootShape(schema);
}
