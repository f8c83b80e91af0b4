/**
 * The OpenAPI 3.1 document of the JSON API, generated from the same zod schemas the routes validate with
 * (zod 4's JSON Schema output, draft 2020-12, which OpenAPI 3.1 uses). Served at GET /api/openapi.json. Each
 * operation lists its possible error codes (`x-error-codes`, and per status in `responses`, each with its meaning
 * from the catalogue, server/http/error-codes.ts).
 */
import { Router } from 'express';
import { z, type ZodType } from 'zod';
import type { ApiRoute } from './api-route';
import { ERROR_CODES, type ErrorCode } from './error-codes';
import { codesByStatus, routeErrorCodes } from './route-errors';
import { errorResponseSchema } from './schemas';

const jsonSchema = (schema: ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** The document's title, version and description. */
export const API_INFO = {
  title: 'Meterbridge settings API',
  version: '1.0.0',
  description:
    'The API behind the Meterbridge page embedded in HighLevel (sign in with POST /api/session), and the usage API ' +
    '(POST /api/v1/usage with an agency API key from POST /api/api-keys).',
};

/** Builds the document. Path templates `:name` become `{name}`. */
export function openApiDocument(routes: ApiRoute<any, any, any, any>[], info: { title: string; version: string; description: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const bodySchema = route.body ?? route.bodyReader?.documented;
    const parameters = [
      ...objectParameters(route.params, 'path'),
      ...objectParameters(route.query, 'query'),
    ];
    const codes = routeErrorCodes(route);
    const errors: Record<string, unknown> = {};
    for (const [status, statusCodes] of codesByStatus(codes)) {
      const extra = route.responses?.[String(status)];
      errors[String(status)] = {
        description: [extra?.description, ...statusCodes.map((code) => `\`${code}\`: ${ERROR_CODES[code].meaning}`)].filter(Boolean).join(' '),
        content: { 'application/json': { schema: extra?.schema ? jsonSchema(extra.schema, 'output') : errorBodyWith(statusCodes) } },
      };
    }
    for (const [status, extra] of Object.entries(route.responses ?? {})) {
      if (errors[status]) continue;
      const schema = extra.schema ? jsonSchema(extra.schema, 'output') : { $ref: '#/components/schemas/Error' };
      errors[status] = { description: extra.description, content: { 'application/json': { schema } } };
    }
    (paths[path] ??= {})[route.method] = {
      operationId: `${route.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: route.summary,
      tags: [route.tag],
      // Every error code the route may answer with (server/http/error-codes.ts); each status below lists its own.
      'x-error-codes': codes,
      ...(route.access === 'public' ? { security: [] } : route.access === 'api-key' ? { security: [{ apiKey: [] }] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(bodySchema ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(bodySchema, 'input') } } } } : {}),
      responses: {
        [String(route.status ?? 200)]: { description: 'Success', content: { [route.contentType ?? 'application/json']: { schema: jsonSchema(route.response, 'output') } } },
        ...errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    security: [{ session: [] }],
    components: {
      securitySchemes: {
        session: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The token from POST /api/session.' },
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'mbk_…', description: 'An agency API key from POST /api/api-keys (shown once).' },
      },
      schemas: { Error: jsonSchema(errorResponseSchema, 'output') },
    },
  };
}

/** The standard error body with `error.code` limited to `codes`. */
function errorBodyWith(codes: readonly ErrorCode[]) {
  return {
    allOf: [{ $ref: '#/components/schemas/Error' }],
    properties: { error: { properties: { code: { enum: [...codes] } } } },
  };
}

function objectParameters(schema: ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

/** `GET /api/openapi.json`: the API's OpenAPI 3.1 document, as built by `openApiDocument`. */
export function openApiRouter(document: object): Router {
  return Router().get('/api/openapi.json', (_req, res) => {
    res.json(document);
  });
}
