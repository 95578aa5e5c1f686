import { sortPattern, type ApiOperation, type TSchema } from '@wharf/sdk';
import type { RegisteredOperation } from './operation-registry.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';
import { templateParams } from './api-route.js';

/**
 * The OpenAPI 3.1 document of `/api/v1`, generated from the registered operations: their
 * TypeBox schemas are JSON Schema already (3.1 takes JSON Schema 2020-12 as is), so they go in
 * almost verbatim. TypeBox's symbol keys are dropped by a JSON round trip; sub-schemas with a
 * `$id` become `components.schemas` entries and `$ref`s. Every 4xx/5xx answer is the error
 * envelope; list operations get `page`, `page_size`, `q` (and `sort` with the fields they allow)
 * and their response headers.
 */

export interface OpenApiOptions {
  /** `info.version`: the kernel version. */
  readonly version: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

const ERROR_RESPONSES: Readonly<Record<string, string>> = {
  '400': 'The request is malformed or fails validation (BAD_REQUEST).',
  '401': 'No or invalid credentials (UNAUTHORIZED).',
  '403': 'The caller may not do this (FORBIDDEN).',
  '404': 'The resource does not exist (NOT_FOUND).',
  '409': 'The request conflicts with the current state (CONFLICT).',
  '413': 'The body is larger than 1 MiB (PAYLOAD_TOO_LARGE).',
  '415': 'The body is not UTF-8 application/json (UNSUPPORTED_MEDIA_TYPE).',
  '500': 'The server failed; the message names the request id (INTERNAL_SERVER_ERROR).',
};

const ERROR_ENVELOPE: JsonObject = {
  type: 'object',
  description: 'The error envelope of every 4xx and 5xx answer.',
  required: ['errors'],
  properties: {
    errors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', description: 'BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, CONFLICT, ...' },
          message: { type: 'string' },
        },
      },
    },
  },
};

/** Symbols and functions out, plain JSON in. */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

/** Moves `$id`-named sub-schemas into `components` (first definition wins) and points `$ref`s at them. */
function hoist(node: Json, components: Record<string, Json>): Json {
  if (Array.isArray(node)) return node.map((n) => hoist(n, components));
  if (node === null || typeof node !== 'object') return node;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) copy[key] = hoist(value, components);
  if (typeof copy.$ref === 'string' && NAME.test(copy.$ref)) copy.$ref = `#/components/schemas/${copy.$ref}`;
  const id = copy.$id;
  if (typeof id === 'string' && NAME.test(id)) {
    const { $id: _drop, ...rest } = copy;
    const existing = components[id];
    if (existing === undefined) components[id] = rest;
    else if (JSON.stringify(existing) !== JSON.stringify(rest)) return rest; // a different schema under a taken name stays inline
    return { $ref: `#/components/schemas/${id}` };
  }
  return copy;
}

function propertiesOf(schema: JsonObject): [string, JsonObject][] {
  const props = schema.properties;
  return props && typeof props === 'object' && !Array.isArray(props) ? (Object.entries(props) as [string, JsonObject][]) : [];
}

function parameters(op: ApiOperation, schemas: Record<string, Json>): Json[] {
  const out: Json[] = [];
  const params = op.params ? (hoist(plain(op.params), schemas) as JsonObject) : undefined;
  const declared = new Map(params ? propertiesOf(params) : []);
  for (const name of templateParams(op.path)) {
    const schema = declared.get(name) ?? { type: 'string', minLength: 1 };
    out.push({ name, in: 'path', required: true, schema, ...(typeof schema.description === 'string' ? { description: schema.description } : {}) });
  }
  if (op.query) {
    const query = hoist(plain(op.query), schemas) as JsonObject;
    const required = Array.isArray(query.required) ? query.required : [];
    for (const [name, schema] of propertiesOf(query)) {
      out.push({ name, in: 'query', required: required.includes(name), schema, ...(typeof schema.description === 'string' ? { description: schema.description } : {}) });
    }
  }
  if (op.list) for (const name of ['page', 'page_size', 'q']) out.push({ $ref: `#/components/parameters/${name}` });
  if (op.list && op.sorts) {
    out.push({
      name: 'sort',
      in: 'query',
      description: `Order, comma-separated fields, \`-\` before a field for descending: ${op.sorts.map((f) => `\`${f}\``).join(', ')}. Ties break on the item's id; other fields are refused (400).`,
      schema: { type: 'string', pattern: sortPattern(op.sorts), 'x-wharf-sort-fields': [...op.sorts] },
    });
  }
  return out;
}

const errorRef = (status: string): Json => ({ $ref: `#/components/responses/Error${status}` });

function responses(op: ApiOperation, schemas: Record<string, Json>): JsonObject {
  const out: JsonObject = {};
  if ('produces' in op) {
    out['200'] = {
      description: 'The whole answer, streamed.',
      content: Object.fromEntries(op.produces.map((type) => [type, { schema: { type: 'string' } }])),
    };
  } else if (op.list) {
    out['200'] = {
      description: 'One page of items.',
      headers: { 'X-Total-Count': { $ref: '#/components/headers/X-Total-Count' }, Link: { $ref: '#/components/headers/Link' } },
      content: { 'application/json': { schema: { type: 'array', items: hoist(plain(op.response), schemas) } } },
    };
  } else if (op.response) {
    out[String(op.status ?? 200)] = { description: 'Success.', content: { 'application/json': { schema: hoist(plain(op.response), schemas) } } };
  } else {
    out[String(op.status ?? 204)] = { description: 'Success, without a body.' };
  }
  const errors = ['400', '401', '403', '404'];
  if (op.method !== 'GET') errors.push('409');
  if (!op.list && op.body) errors.push('413', '415');
  errors.push('500');
  for (const status of errors) out[status] = errorRef(status);
  return out;
}

export function buildOpenApiDocument(operations: readonly RegisteredOperation[], options: OpenApiOptions): JsonObject {
  const schemas: Record<string, Json> = { ErrorEnvelope: ERROR_ENVELOPE };
  const paths: Record<string, JsonObject> = {};
  const tags = new Set<string>();
  const sorted = [...operations].sort((a, b) => a.operation.path.localeCompare(b.operation.path) || a.operation.method.localeCompare(b.operation.method));
  for (const { owner, operation: op } of sorted) {
    tags.add(op.tag);
    const entry: JsonObject = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      parameters: parameters(op, schemas),
      ...(!op.list && op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: hoist(plain(op.body), schemas) } } } }
        : {}),
      responses: responses(op, schemas),
      ...(op.anonymous ? { security: [{}, { basic: [] }, { bearer: [] }] } : {}),
      'x-wharf-owner': owner,
    };
    (paths[op.path] ??= {})[op.method.toLowerCase()] = entry;
  }
  const errorResponses: JsonObject = {};
  for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
    errorResponses[`Error${status}`] = { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } } };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Wharf management API',
      version: options.version,
      description: 'Users, groups, projects, members and robots of a Wharf registry. Generated from the operations the kernel and its plugins registered.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ basic: [] }, { bearer: [] }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas,
      responses: errorResponses,
      parameters: {
        page: { name: 'page', in: 'query', description: 'Page number, from 1.', schema: { type: 'integer', minimum: 1, default: 1 } },
        page_size: {
          name: 'page_size',
          in: 'query',
          description: `Items per page; more than ${MAX_PAGE_SIZE} is refused.`,
          schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
        },
        q: {
          name: 'q',
          in: 'query',
          description: 'Filters, comma-separated: `key=value` (exact) or `key=~value` (substring); values URL-encoded. Range and list forms are not supported.',
          schema: { type: 'string' },
        },
      },
      headers: {
        'X-Total-Count': { description: 'Items across all pages.', schema: { type: 'integer', minimum: 0 } },
        Link: { description: 'RFC 8288 links to the `prev` and `next` pages.', schema: { type: 'string' } },
      },
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'User name and password, checked by the auth providers.' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from the token service (`/service/token`), when token auth is on.' },
      },
    },
  };
}
