/**
 * The OpenAPI schemas of built-in kinds (as published by Kubernetes, compiled by kubernetes-models):
 * a wrongly typed field is a decode error (400), a missing required field or a value outside an
 * enum is a validation error (422), as from the real API server.
 */
import { badRequest, type FieldError, notSupported, required } from './errors.ts';
import type { ResourceType } from './resources.ts';
import type { Json } from './schema.ts';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: { type?: string; missingProperty?: string; allowedValues?: unknown[]; format?: string };
}
type Validate = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

const groupNames: Record<string, string> = {
  '': 'Core',
  apps: 'Apps',
  autoscaling: 'Autoscaling',
  policy: 'Policy',
  'coordination.k8s.io': 'Coordination',
  'events.k8s.io': 'Events',
  'networking.k8s.io': 'Networking',
  'rbac.authorization.k8s.io': 'Rbac',
};

function schemaModule(t: ResourceType): string | undefined {
  if (t.group === 'apiextensions.k8s.io')
    return `IoK8sApiextensionsApiserverPkgApisApiextensions${cap(t.version)}${t.kind}`;
  const g = groupNames[t.group];
  return g ? `IoK8sApi${g}${cap(t.version)}${t.kind}` : undefined;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export class BuiltinSchemas {
  private readonly validators = new Map<string, Validate>();

  static async load(types: ResourceType[]): Promise<BuiltinSchemas> {
    const out = new BuiltinSchemas();
    await Promise.all(
      types.map(async (t) => {
        const mod = schemaModule(t);
        if (!mod) return;
        try {
          const m = (await import(`kubernetes-models/_schemas/${mod}`)) as { validate: Validate };
          out.validators.set(`${t.group}/${t.version}/${t.kind}`, m.validate);
        } catch {
          // No published schema for this kind: only the hand-written validation applies.
        }
      }),
    );
    return out;
  }

  private errors(t: ResourceType, o: Json): AjvError[] {
    const v = this.validators.get(`${t.group}/${t.version}/${t.kind}`);
    if (!v || v(o)) return [];
    return (v.errors ?? []).filter(
      (e) => !e.instancePath.startsWith('/status') && !e.instancePath.startsWith('/metadata'),
    );
  }

  /** Decoding: a value of the wrong JSON type cannot be read into the Go struct. */
  checkDecodable(t: ResourceType, o: Json): void {
    const bad = this.errors(t, o).find((e) => e.keyword === 'type' || e.keyword === 'format');
    if (!bad) return;
    const path = fieldPath(bad.instancePath);
    const want = bad.params.type ?? bad.params.format ?? 'value';
    throw badRequest(
      `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: json: cannot unmarshal ${describe(valueAt(o, bad.instancePath))} into Go struct field .${path} of type ${want}`,
    );
  }

  /** Required fields and enums, after defaulting. */
  validate(t: ResourceType, o: Json): FieldError[] {
    const errs: FieldError[] = [];
    for (const e of this.errors(t, o)) {
      const path = fieldPath(e.instancePath);
      if (e.keyword === 'required' && e.params.missingProperty && !(t.kind === 'Event' && t.group === '')) {
        errs.push(required(path ? `${path}.${e.params.missingProperty}` : e.params.missingProperty));
      } else if (e.keyword === 'enum') {
        errs.push(notSupported(path, valueAt(o, e.instancePath), e.params.allowedValues ?? []));
      }
    }
    return errs;
  }
}

function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function valueAt(o: Json, instancePath: string): Json | undefined {
  let cur: unknown = o;
  for (const p of instancePath.split('/').filter((x) => x !== '')) {
    const k = p.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  }
  return cur as Json | undefined;
}

function describe(v: Json | undefined): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v;
}
