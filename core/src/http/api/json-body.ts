import type { Context } from 'koa';
import { ApiError } from '@wharf/sdk';
import { announcesBody, parseDecimal } from '../integers.js';

/**
 * Reads a management API request's JSON body: `application/json` (or a `+json` type) in UTF-8
 * only, at most {@link MAX_BODY_BYTES}, parsed once. No body at all reads as `undefined`, so
 * the operation's schema decides whether one is required.
 */

export const MAX_BODY_BYTES = 1024 * 1024;

function hasBody(ctx: Context): boolean {
  return announcesBody(ctx.get('content-length'), ctx.get('transfer-encoding'));
}

export async function readJsonBody(ctx: Context, limit = MAX_BODY_BYTES): Promise<unknown> {
  if (!hasBody(ctx)) return undefined;
  if (!ctx.is('application/json', '+json')) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `the body must be application/json, not ${ctx.get('content-type').slice(0, 100) || 'untyped'}`);
  }
  const charset = ctx.request.charset;
  if (charset && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `the body must be UTF-8, not ${charset.slice(0, 40)}`);
  }
  const tooLarge = () => new ApiError('PAYLOAD_TOO_LARGE', `the body is larger than ${limit} bytes`);
  const declared = parseDecimal(ctx.get('content-length') || '0');
  if (declared === undefined || declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the input, which may hold a password: it is not repeated.
    throw new ApiError('BAD_REQUEST', 'the body is not valid JSON');
  }
}
