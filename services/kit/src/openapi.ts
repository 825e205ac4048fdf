import { z } from 'zod';
import type { Route } from './route.ts';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export interface OpenApiOptions {
  /** Security schemes the routes' `security` names refer to; `bearer` (JWT) is known already. */
  securitySchemes?: Record<string, unknown>;
  servers?: { url: string; description?: string }[];
}

type JsonSchema = Record<string, unknown>;

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string', format: 'uri-reference' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errorId: { type: 'string', description: 'Present on 500s; the same id is in the service log' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          in: { enum: ['body', 'query', 'params', 'headers'] },
          pointer: { type: 'string', description: 'JSON Pointer into that part of the request' },
          field: { type: 'string' },
          message: { type: 'string' },
        },
        required: ['in', 'pointer', 'field', 'message'],
      },
    },
  },
  required: ['type', 'title', 'status'],
};

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

/**
 * The OpenAPI 3.1 document of a set of routes. Zod 4 emits JSON Schema 2020-12, which is what
 * OpenAPI 3.1 uses; schemas carrying `.meta({ id })` become named components.
 */
export function openApiDocument(
  info: OpenApiInfo,
  routes: Route[],
  options: OpenApiOptions = {},
): JsonSchema {
  const components: Record<string, JsonSchema> = { Problem: PROBLEM_SCHEMA };
  const toSchema = (schema: z.ZodType, io: 'input' | 'output') => jsonSchema(schema, io, components);
  const paths: Record<string, Record<string, unknown>> = {};
  const usedSecurity = new Set<string>();

  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...parametersOf(route.params, 'path', toSchema),
      ...parametersOf(route.query, 'query', toSchema),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const isProblem = Number(status) >= 400;
      const contentType =
        response.contentType ?? (isProblem ? 'application/problem+json' : 'application/json');
      const schema = response.body ? toSchema(response.body, 'output') : isProblem ? PROBLEM_REF : undefined;
      responses[status] = {
        description: response.description,
        ...(schema ? { content: { [contentType]: { schema } } } : {}),
      };
    }
    const problem = (description: string) => ({
      description,
      content: { 'application/problem+json': { schema: PROBLEM_REF } },
    });
    if (parameters.length > 0) responses['400'] ??= problem('Invalid path or query parameters');
    if (route.body) {
      responses['413'] ??= problem('Request body too large');
      responses['415'] ??= problem('Request body is not JSON');
      responses['422'] ??= problem('Request body failed validation');
    }
    responses['default'] ??= problem('Error');
    for (const name of route.security ?? []) usedSecurity.add(name);

    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: route.name,
      ...(route.summary ? { summary: route.summary } : {}),
      ...(route.description ? { description: route.description } : {}),
      ...(route.tags ? { tags: route.tags } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses,
      ...(route.security?.length ? { security: route.security.map((name) => ({ [name]: [] })) } : {}),
    };
  }

  const securitySchemes: Record<string, unknown> = {};
  for (const name of usedSecurity) {
    const scheme =
      options.securitySchemes?.[name] ??
      (name === 'bearer' ? { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } : undefined);
    if (!scheme) throw new Error(`route uses unknown security scheme ${name}`);
    securitySchemes[name] = scheme;
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info,
    ...(options.servers ? { servers: options.servers } : {}),
    paths,
    components: {
      schemas: components,
      ...(usedSecurity.size > 0 ? { securitySchemes } : {}),
    },
  };
}

function parametersOf(
  schema: z.ZodType | undefined,
  where: 'path' | 'query',
  toSchema: (schema: z.ZodType, io: 'input' | 'output') => JsonSchema,
): unknown[] {
  if (!schema) return [];
  const object = toSchema(schema, 'input');
  const properties = (object['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

/** A schema for use inside the document: its named sub-schemas are moved into `components`. */
function jsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, JsonSchema>,
): JsonSchema {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  const { $schema: _dialect, $defs, ...root } = generated;
  const defs = ($defs ?? {}) as Record<string, JsonSchema>;
  const names = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    const existing = components[name];
    names.set(name, existing && JSON.stringify(existing) !== JSON.stringify(def) ? `${name}Input` : name);
  }
  const rename = (value: JsonSchema) =>
    JSON.parse(
      JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, (_, name: string) => {
        return JSON.stringify(`#/components/schemas/${names.get(name) ?? name}`);
      }),
    ) as JsonSchema;
  for (const [name, def] of Object.entries(defs)) components[names.get(name) ?? name] = rename(def);
  return rename(root);
}
