/**
 * The one way numbers are read from a request (query, path, headers): plain decimal digits
 * only, within the safe integer range. `Number()` and `parseInt()` accept `0x1`, `1e0`, ` 1`,
 * `1.0` and `1e400` (Infinity), so an id or a count could mean something its sender did not
 * write; `integers.test.ts` keeps them out of the request-handling code.
 */

const DECIMAL = /^[0-9]{1,16}$/;

/** The value of a string of decimal digits, or `undefined` for anything else or beyond 2^53. */
export function parseDecimal(value: string | undefined): number | undefined {
  if (value === undefined || !DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

const SIGNED_DECIMAL = /^-?[0-9]{1,16}(\.[0-9]{1,16})?$/;

/** A plain decimal number (optional sign and fraction, no exponent), or `undefined`. */
export function parseDecimalNumber(value: string): number | undefined {
  return SIGNED_DECIMAL.test(value) ? Number(value) : undefined;
}

/** True when a request announces a body (RFC 9112: a length above zero, or a transfer coding). */
export function announcesBody(contentLength: string, transferEncoding: string): boolean {
  if (contentLength !== '') return (parseDecimal(contentLength) ?? 1) > 0;
  return transferEncoding !== '';
}
