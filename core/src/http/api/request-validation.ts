import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { ApiError } from '@wharf/sdk';

/**
 * Request validation of management API operations with ajv. Path and query parameters arrive
 * as strings and are coerced to their schema's types (`?admin=true` becomes `true`, a repeated
 * key becomes an array where the schema wants one); JSON bodies are taken as sent. Defaults of
 * the schemas are filled in. Problems become one 400 `BAD_REQUEST` naming each field by JSON
 * pointer and the reason.
 */

type FormatsPlugin = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS with an `exports.default`; under NodeNext the default import is the module.
const addFormats: FormatsPlugin =
  (formatsModule as unknown as { default?: FormatsPlugin }).default ?? (formatsModule as unknown as FormatsPlugin);

function createAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: coerce ? 'array' : false });
  addFormats(ajv);
  // Config-style marks plugins may reuse in API schemas; they never fail validation.
  ajv.addKeyword({ keyword: 'secret', schemaType: 'boolean' });
  return ajv;
}

/** Where a value came from, as the error message names it. */
export type RequestPart = 'path parameter' | 'query parameter' | 'body';

export interface RequestValidator {
  /** Validates (and coerces, and fills defaults in) `value` in place; throws `BAD_REQUEST`. */
  (value: unknown): unknown;
}

/** Compiles schemas of one kind of request part; one ajv per kind, shared by all operations. */
export class RequestValidators {
  private readonly coercing = createAjv(true);
  private readonly exact = createAjv(false);

  compile(part: RequestPart, schema: TSchema): RequestValidator {
    const validate = (part === 'body' ? this.exact : this.coercing).compile(schema);
    return (value: unknown) => {
      if (validate(value)) return value;
      throw new ApiError('BAD_REQUEST', describeErrors(part, validate));
    };
  }
}

/** One line naming every problem: `invalid body: /username: is required; /admin: must be boolean`. */
export function describeErrors(part: RequestPart, validate: ValidateFunction): string {
  const problems: string[] = [];
  for (const err of validate.errors ?? []) {
    const line = describe(err);
    if (!problems.includes(line)) problems.push(line);
    if (problems.length === 10) break;
  }
  return `invalid ${part}: ${problems.join('; ') || 'does not match the schema'}`;
}

/** JSON pointer escaping of one key (RFC 6901). */
function escapeKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function describe(err: ErrorObject): string {
  const params = err.params as Record<string, unknown>;
  const at = (pointer: string) => pointer || '/';
  switch (err.keyword) {
    case 'required':
      return `${err.instancePath}/${escapeKey(String(params.missingProperty))}: is required`;
    case 'additionalProperties':
      return `${err.instancePath}/${escapeKey(String(params.additionalProperty))}: is not allowed`;
    case 'enum':
      return `${at(err.instancePath)}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${at(err.instancePath)}: must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${at(err.instancePath)}: ${err.message ?? 'is invalid'}`;
  }
}
