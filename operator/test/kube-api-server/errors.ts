/**
 * metav1.Status bodies exactly as the API server writes them for failures
 * (k8s.io/apimachinery/pkg/api/errors), thrown as StatusError and rendered by the server.
 */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

export class StatusError extends Error {
  readonly status: Status;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
  }
  get code(): number {
    return this.status.code ?? 500;
  }
}

/** A group-qualified resource, rendered like schema.GroupResource.String(): "deployments.apps". */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, detail: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${detail}`,
    { name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource },
  );
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function methodNotSupported(gr: GroupResource, action: string): StatusError {
  return new StatusError(
    405,
    'MethodNotAllowed',
    `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`,
    {
      ...(gr.group ? { group: gr.group } : {}),
      kind: gr.resource,
    },
  );
}

export function notAcceptable(message: string): StatusError {
  return new StatusError(406, 'NotAcceptable', message);
}

export function unsupportedMediaType(contentType: string, accepted: string[]): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    { causes: [{ reason: 'UnexpectedHeader', message: contentType, field: 'Content-Type' }] },
  );
}

export function forbidden(gr: GroupResource, name: string, reason: string): StatusError {
  const what = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return new StatusError(403, 'Forbidden', `${what} is forbidden: ${reason}`, {
    ...(name ? { name } : {}),
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** 410 as returned for a too-old resourceVersion or an expired continue token. */
export function resourceExpired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function tooLargeResourceVersion(rv: number, current: number): StatusError {
  return new StatusError(504, 'Timeout', `Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

export function internalError(err: unknown): StatusError {
  const message = err instanceof Error ? err.message : String(err);
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ reason: '', message }],
  });
}

/** One field.Error of k8s.io/apimachinery/pkg/util/validation/field. */
export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueDuplicate'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueTypeInvalid'
    | 'FieldValueNotFound'
    | 'InternalError';
  field: string;
  badValue?: unknown;
  detail?: string;
}

function renderValue(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** field.Error.ErrorBody(): the message without the field path. */
export function fieldErrorBody(e: FieldError): string {
  const withDetail = (s: string) => (e.detail ? `${s}: ${e.detail}` : s);
  switch (e.type) {
    case 'FieldValueRequired':
      return withDetail('Required value');
    case 'FieldValueForbidden':
      return withDetail('Forbidden');
    case 'FieldValueNotFound':
      return withDetail(`Not found: ${renderValue(e.badValue)}`);
    case 'FieldValueDuplicate':
      return withDetail(`Duplicate value: ${renderValue(e.badValue)}`);
    case 'FieldValueNotSupported':
      return withDetail(`Unsupported value: ${renderValue(e.badValue)}`);
    case 'FieldValueTooLong':
      return withDetail('Too long');
    case 'FieldValueTooMany':
      return withDetail(`Too many: ${renderValue(e.badValue)}`);
    case 'InternalError':
      return withDetail('Internal error');
    default:
      return withDetail(`Invalid value: ${renderValue(e.badValue)}`);
  }
}

export const required = (field: string, detail = ''): FieldError => ({
  type: 'FieldValueRequired',
  field,
  detail,
});
export const invalid = (field: string, badValue: unknown, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  badValue,
  detail,
});
export const forbiddenField = (field: string, detail: string): FieldError => ({
  type: 'FieldValueForbidden',
  field,
  detail,
});
export const notSupported = (field: string, badValue: unknown, supported: unknown[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  badValue,
  detail: supported.length ? `supported values: ${supported.map((s) => renderValue(s)).join(', ')}` : '',
});
export const typeInvalid = (field: string, badValue: unknown, detail: string): FieldError => ({
  type: 'FieldValueTypeInvalid',
  field,
  badValue,
  detail,
});
export const tooMany = (field: string, actual: number, max: number): FieldError => ({
  type: 'FieldValueTooMany',
  field,
  badValue: actual,
  detail: `must have at most ${max} items`,
});
export const duplicate = (field: string, badValue: unknown): FieldError => ({
  type: 'FieldValueDuplicate',
  field,
  badValue,
});

/** errors.NewInvalid: 422 with one cause per field error. */
export function invalidObject(kind: string, group: string, name: string, errs: FieldError[]): StatusError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const msgs = errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const aggregate = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

export function successStatus(details: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
