import { pino, type DestinationStream, type Logger } from 'pino';
import prettyModule from 'pino-pretty';
import type { LogLevel } from '../config/types.js';
import { REDACTED, type SecretInfo } from '../config/secrets.js';
import { capLogArguments, sanitizeLogObject, serializeError } from './log-hygiene.js';

/**
 * The root pino logger. JSON by default; pretty (pino-pretty as an in-process stream) when
 * asked, or in `auto` mode on a TTY. Secrets are removed twice: by path (pino redaction of the
 * usual keys and every key marked `secret` in a schema) and by value (every configured secret
 * string is scrubbed from each written line, whatever key a careless log call used). Every
 * line is also kept free of raw request bytes and bounded in size (`log-hygiene.ts`).
 */

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;
const pretty: PrettyFactory =
  (prettyModule as unknown as { default?: PrettyFactory }).default ?? (prettyModule as unknown as PrettyFactory);

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: 'auto' | 'json' | 'pretty';
  readonly secrets?: Pick<SecretInfo, 'keys' | 'values'> | undefined;
  /** Where lines go (tests capture them); default stdout. */
  readonly destination?: DestinationStream | NodeJS.WritableStream | undefined;
}

/** Always redacted, config or not. */
export const BASE_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'secret',
  'token',
  '*.password',
  '*.secret',
  '*.token',
  '*.connection.password',
  'credentials.password',
  'credentials.token',
];

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function redactPaths(secretKeys: readonly string[] = []): string[] {
  const paths = new Set(BASE_REDACT_PATHS);
  for (const key of secretKeys) {
    if (!IDENT.test(key)) continue;
    paths.add(key);
    paths.add(`*.${key}`);
  }
  return [...paths];
}

/** Replaces every occurrence of each secret (raw and JSON-escaped) in a serialized line. */
export function createScrubber(values: readonly string[]): ((line: string) => string) | undefined {
  const needles = new Set<string>();
  for (const v of values) {
    if (v.length < 4) continue;
    needles.add(v);
    needles.add(JSON.stringify(v).slice(1, -1));
  }
  // Longest first, so a secret that contains another is removed whole.
  const list = [...needles].sort((a, b) => b.length - a.length);
  if (list.length === 0) return undefined;
  return (line) => {
    let out = line;
    for (const n of list) if (out.includes(n)) out = out.split(n).join(REDACTED);
    return out;
  };
}

export function usePretty(format: LoggerOptions['format'], stream: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stream.isTTY === true);
}

export function createLogger(options: LoggerOptions): Logger {
  const scrub = createScrubber(options.secrets?.values ?? []);
  const opts = {
    level: options.level,
    redact: { paths: redactPaths(options.secrets?.keys), censor: REDACTED },
    formatters: { log: sanitizeLogObject },
    // `formatters.log` already turned errors into safe objects; pino's own serializer would redo it.
    serializers: { err: (e: unknown) => (e instanceof Error ? serializeError(e) : e) },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, capLogArguments(args));
      },
      ...(scrub ? { streamWrite: scrub } : {}),
    },
  };
  let destination = options.destination as DestinationStream | undefined;
  if (usePretty(options.format, (options.destination as { isTTY?: boolean } | undefined) ?? process.stdout)) {
    destination = pretty({
      colorize: destination === undefined && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      sync: true,
      ...(destination === undefined ? {} : { destination }),
    });
  }
  return destination === undefined ? pino(opts) : pino(opts, destination);
}

/** A child per plugin: every line it writes says which plugin wrote it. */
export function pluginLogger(root: Logger, pluginId: string): Logger {
  return root.child({ plugin: pluginId });
}

export type { Logger };
