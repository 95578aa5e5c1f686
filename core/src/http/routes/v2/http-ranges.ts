import { RegistryError } from '@wharf/sdk';

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
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return undefined; // syntactically invalid: ignore, per RFC 9110
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
  if (!match) throw new RegistryError('RANGE_INVALID', 'malformed Content-Range', { detail: { contentRange: header.slice(0, 100) } });
  return { start: Number(match[1]), end: Number(match[2]) };
}

/** `Content-Length` as a number, or `undefined` when absent. */
export function contentLength(header: string | undefined): number | undefined {
  if (header === undefined || header === '') return undefined;
  const n = Number(header);
  if (!Number.isSafeInteger(n) || n < 0) throw new RegistryError('SIZE_INVALID', 'invalid Content-Length');
  return n;
}
