import { stdSerializers } from 'pino';

/**
 * What may reach a log line, whatever a log call passes: no raw request bytes and no bodies
 * (Node's parser errors carry the whole packet, Authorization header and form passwords
 * included, in `rawPacket`), no byte buffers, and no string longer than {@link MAX_LOG_STRING}
 * (an 11,000-character user name must not become an 11 KB line), and no password inside a URL
 * (`postgres://user:pw@host`). Applied to every line by the
 * root logger, so a careless call anywhere is still safe.
 */

/** Longest string written as is; longer ones keep their start and say how much was cut. */
export const MAX_LOG_STRING = 512;
/** A stack keeps this much after its (capped) first line: enough frames to find the bug. */
const MAX_STACK_FRAMES = 2500;
const MAX_DEPTH = 6;
const MAX_ITEMS = 50;
const MAX_KEYS = 100;

/** Fields never logged, at any depth: raw bytes and bodies of requests and responses. */
const DROPPED_KEYS = new Set(['rawPacket', 'body', 'rawBody', 'requestBody', 'responseBody', 'payload']);

/** `scheme://user:password@` in any string: the password is masked, whether or not configured. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"']*):([^\s/@"']+)@/gi;

export function maskUrlCredentials(value: string): string {
  return value.includes('://') ? value.replace(URL_CREDENTIALS, '$1:[redacted]@') : value;
}

export function capString(value: string, max = MAX_LOG_STRING): string {
  return value.length <= max ? value : `${value.slice(0, max)}…[${value.length - max} more characters]`;
}

function capStack(stack: string): string {
  const newline = stack.indexOf('\n');
  if (newline < 0) return capString(stack);
  return capString(stack.slice(0, newline)) + capString(stack.slice(newline), MAX_STACK_FRAMES);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A serialized error without raw packets, with capped message and stack. */
export function serializeError(err: Error, depth = 0): Record<string, unknown> {
  const plain = stdSerializers.err(err) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(plain)) {
    if (DROPPED_KEYS.has(key)) continue;
    out[key] = key === 'stack' && typeof value === 'string' ? capStack(maskUrlCredentials(value)) : sanitizeLogValue(value, depth + 1);
  }
  return out;
}

/** A copy of `value` that is safe to write: see the module comment. */
export function sanitizeLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return capString(maskUrlCredentials(value));
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) return serializeError(value, depth);
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => sanitizeLogValue(v, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more items]`);
    return items;
  }
  // Class instances (dates, URLs, loggers' own objects) are left to their own JSON form.
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, v] of Object.entries(value)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (++kept > MAX_KEYS) {
      out['[more keys]'] = Object.keys(value).length - MAX_KEYS;
      break;
    }
    out[capString(key, 100)] = sanitizeLogValue(v, depth + 1);
  }
  return out;
}

/** The merging object of a log call, made safe (pino's `formatters.log`). */
export function sanitizeLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return sanitizeLogValue(object) as Record<string, unknown>;
}

/** Caps the message and interpolation arguments of a log call (pino's `hooks.logMethod`). */
export function capLogArguments(args: unknown[]): unknown[] {
  return args.map((a) => (typeof a === 'string' ? capString(maskUrlCredentials(a), MAX_LOG_STRING * 2) : a));
}
