import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { foldAnyOf } from '../../config/validate.js';
import type { TSchema } from '@sinclair/typebox';
import { ApiError } from '@wharf/sdk';
import { parseDecimal, parseDecimalNumber } from '../integers.js';

/**
 * Request validation of management API operations with ajv. Path and query parameters arrive
 * as strings and are coerced to their schema's types (`?admin=true` becomes `true`, a repeated
 * key becomes an array where the schema wants one); numbers must be written as plain decimals
 * (ajv's coercion would take `0x1`, `1e0` or `1e400`); JSON bodies are taken as sent. Defaults of
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
      if (part !== 'body') strictNumbers(part, schema, value);
      if (validate(value)) return value;
      throw new ApiError('BAD_REQUEST', describeErrors(part, validate));
    };
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function numericType(schema: unknown): 'integer' | 'number' | undefined {
  if (!isObject(schema)) return undefined;
  return schema.type === 'integer' || schema.type === 'number' ? schema.type : undefined;
}

/** A string as the number it plainly spells, or `undefined`. */
function strictNumber(type: 'integer' | 'number', raw: string): number | undefined {
  const negative = raw.startsWith('-');
  if (type === 'integer') {
    const n = parseDecimal(negative ? raw.slice(1) : raw);
    return n === undefined ? undefined : negative ? -n : n;
  }
  return parseDecimalNumber(raw);
}

/**
 * Converts the numeric path or query parameters of `value` in place, refusing any spelling but
 * plain decimals before ajv's lenient coercion could see them.
 */
function strictNumbers(part: RequestPart, schema: TSchema, value: unknown): void {
  if (!isObject(value) || !isObject(schema.properties)) return;
  for (const [key, propSchema] of Object.entries(schema.properties as Json)) {
    const raw = value[key];
    const items = isObject(propSchema) && propSchema.type === 'array' ? propSchema.items : undefined;
    const type = numericType(propSchema) ?? numericType(items);
    if (type === undefined || raw === undefined) continue;
    const convert = (v: unknown): unknown => {
      if (typeof v !== 'string') return v;
      const n = strictNumber(type, v);
      if (n === undefined) throw new ApiError('BAD_REQUEST', `invalid ${part}: /${escapeKey(key)}: must be ${type} (plain decimal digits)`);
      return n;
    };
    value[key] = Array.isArray(raw) ? raw.map(convert) : convert(raw);
  }
}

/** One line naming every problem: `invalid body: /username: is required; /admin: must be boolean`. */
export function describeErrors(part: RequestPart, validate: ValidateFunction): string {
  const problems: string[] = [];
  // A bad value of a union says once what is allowed, not once per branch.
  for (const err of foldAnyOf([...(validate.errors ?? [])])) {
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
