import { RegistryError } from '@wharf/sdk';
import { parseDecimal } from '../../integers.js';

/**
 * Parses `Range: bytes=a-b | bytes=a- | bytes=-n` for a blob of `size` bytes.
 * Returns `undefined` for no header or a form we serve whole (several ranges), and throws
 * `RANGE_INVALID` (416) for a range that cannot be satisfied.
 */
export function parseRangeHeader(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  let start: number;
  let end: number;
  if (first === '' && last === '') return undefined;
  // Beyond 2^53 no blob is that long: the whole blob (or nothing) is what such a range means.
  const lastN = last === '' ? undefined : (parseDecimal(last) ?? Number.MAX_SAFE_INTEGER);
  if (first === '') {
    const suffix = lastN ?? 0;
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = parseDecimal(first) ?? Number.MAX_SAFE_INTEGER;
    end = lastN === undefined ? size - 1 : Math.min(lastN, size - 1);
    if (lastN !== undefined && lastN < start) return undefined; // syntactically invalid: ignore, per RFC 9110
  }
  if (start >= size || size === 0) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): RegistryError {
  return new RegistryError('RANGE_INVALID', 'requested range not satisfiable', { headers: { 'Content-Range': `bytes */${size}` } });
}

/**
 * Parses a chunk's `Content-Range: a-b` (the OCI form; `bytes a-b/*` accepted too).
 * Malformed values are a 416, as the spec asks for chunks the registry cannot place.
 */
export function parseContentRange(header: string | undefined): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  const start = parseDecimal(match?.[1]);
  const end = parseDecimal(match?.[2]);
  if (start === undefined || end === undefined) {
    throw new RegistryError('RANGE_INVALID', 'malformed Content-Range', { detail: { contentRange: header.slice(0, 100) } });
  }
  return { start, end };
}

/** `Content-Length` as a number, or `undefined` when absent. */
export function contentLength(header: string | undefined): number | undefined {
  if (header === undefined || header === '') return undefined;
  const n = parseDecimal(header);
  if (n === undefined) throw new RegistryError('SIZE_INVALID', 'invalid Content-Length');
  return n;
}
