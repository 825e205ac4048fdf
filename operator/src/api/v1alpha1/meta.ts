import { type Static, type TSchema, Type } from '@sinclair/typebox';

/** API group and version shared by every Souk kind. */
export const GROUP = 'souk.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A CEL validation rule, as the apiserver evaluates it (`x-kubernetes-validations`). */
export interface ValidationRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export const rules = (...r: ValidationRule[]) => ({ 'x-kubernetes-validations': r });

/** `map[string]string`: a structural schema must say it with additionalProperties, never patternProperties. */
export const StringMap = (options: Record<string, unknown> = {}) =>
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    ...options,
  });

/** A string enum as a structural schema can hold it (`enum`, never `anyOf` of `const`). */
export const Enum = <const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** Opaque nested object kept as is (e.g. an HPA behavior block or a valueFrom). */
export const Opaque = <T = Record<string, unknown>>(options: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...options });

export const IntOrString = (options: Record<string, unknown> = {}) =>
  Type.Unsafe<number | string>({
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...options,
  });

/** A resource.Quantity ("500m", "1Gi", 2). */
export const Quantity = () =>
  IntOrString({
    pattern:
      '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  });

/** A count or a percentage ("25%"), as PodDisruptionBudget and rolling updates take it. */
export const CountOrPercent = (description: string) =>
  IntOrString({ pattern: '^(100|[1-9]?[0-9])%$|^[0-9]+$', description });

export const Resources = Type.Object(
  {
    requests: Type.Optional(
      Type.Unsafe<Record<string, number | string>>({ type: 'object', additionalProperties: Quantity() }),
    ),
    limits: Type.Optional(
      Type.Unsafe<Record<string, number | string>>({ type: 'object', additionalProperties: Quantity() }),
    ),
  },
  { description: 'Compute resources, as in a container spec.' },
);
export type Resources = Static<typeof Resources>;

/** A DNS-1123 label: what a Kubernetes object name must look like when it becomes part of a child name. */
export const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** A condition as the Kubernetes API conventions define it (metav1.Condition). */
export const Condition = Type.Object({
  type: Type.String({
    maxLength: 316,
    pattern:
      '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
  }),
  status: Enum(['True', 'False', 'Unknown']),
  reason: Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: Type.String({ maxLength: 32768 }),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Condition = Static<typeof Condition>;

export const Conditions = Type.Array(Condition, {
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

/** Minimal object metadata as the controllers read it. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** What a CRD needs beyond the schema of spec and status. */
export interface KindDefinition<S extends TSchema = TSchema, St extends TSchema = TSchema> {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  spec: S;
  status: St;
  /** CEL rules on the whole object (rare; most live next to the field they constrain). */
  rules?: ValidationRule[];
  printerColumns: {
    name: string;
    type: string;
    jsonPath: string;
    description?: string;
    priority?: number;
    format?: string;
  }[];
  description: string;
}

export const readyColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
export const reasonColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  priority: 1,
};
export const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
