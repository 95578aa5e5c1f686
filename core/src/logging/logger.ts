import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogSinkEntry } from '@wharf/sdk';
import type { LogLevel } from '../config/types.js';
import { REDACTED, type SecretInfo } from '../config/secrets.js';
import { capLogArguments, sanitizeLogObject, serializeError } from './log-hygiene.js';
import { keepInLogContext, logContextMixin } from './log-context.js';
import { LogRouter } from './sinks/router.js';

/**
 * The root pino logger. JSON lines go to a {@link LogRouter}, which hands them to the configured
 * sinks (`log.sinks`; stdout by default, pretty there when asked or in `auto` mode on a TTY).
 * Secrets are removed before any sink sees a line: by value (every configured secret string,
 * raw and JSON-escaped, is scrubbed from each serialized line, whatever key a careless call
 * used), by the password of any URL written in a line, and by exact field path for the few
 * names that always hold credentials (`req.headers.authorization`, `password`, ...). A config
 * key's last segment is never used as a redaction path: `jobs.redis.url` being secret must not
 * hide every `url` field. Every line is also kept free of raw request bytes and bounded in size
 * (`log-hygiene.ts`), and carries the request or job id of the work it was written in
 * (`log-context.ts`).
 */

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: 'auto' | 'json' | 'pretty';
  /** Configured secret values (`SecretInfo.values`), scrubbed from every line. */
  readonly secrets?: Pick<SecretInfo, 'values'> | undefined;
  /** Where the stdout sink writes (the CLI uses stderr; tests capture lines); default stdout. */
  readonly destination?: DestinationStream | NodeJS.WritableStream | undefined;
  /** `log.sinks`; default one stdout sink. */
  readonly sinks?: readonly LogSinkEntry[] | undefined;
  /** Resolves relative paths in sink options (the config file's directory). */
  readonly baseDir?: string | undefined;
}

/** Always redacted by path, config or not: fields that hold credentials by their very name. */
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

/** The root logger and the router behind it (the kernel attaches plugin sinks and reads counters). */
export function createRootLogger(options: LoggerOptions): { logger: Logger; router: LogRouter } {
  const scrub = createScrubber(options.secrets?.values ?? []);
  const destination = options.destination as (NodeJS.WritableStream & { isTTY?: boolean }) | undefined;
  const router = new LogRouter({
    sinks: options.sinks ?? [{ type: 'stdout', bufferSize: 10_000, batchSize: 100 }],
    level: options.level,
    pretty: usePretty(options.format, destination ?? process.stdout),
    stdout: destination,
    baseDir: options.baseDir ?? process.cwd(),
  });
  const logger = pino(
    {
      level: options.level,
      redact: { paths: [...BASE_REDACT_PATHS], censor: REDACTED },
      formatters: { log: sanitizeLogObject },
      mixin: logContextMixin,
      // `formatters.log` already turned errors into safe objects; pino's own serializer would redo it.
      serializers: { err: (e: unknown) => (e instanceof Error ? serializeError(e) : e) },
      hooks: {
        logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
          method.apply(this, capLogArguments(args));
        },
        // Scrubbed first; a job's lines are then also kept in its own log (log-context.ts).
        streamWrite(line: string): string {
          const out = scrub ? scrub(line) : line;
          keepInLogContext(out);
          return out;
        },
      },
    },
    router,
  );
  router.setLogger(logger);
  return { logger, router };
}

export function createLogger(options: LoggerOptions): Logger {
  return createRootLogger(options).logger;
}

/** A child per plugin: every line it writes says which plugin wrote it. */
export function pluginLogger(root: Logger, pluginId: string): Logger {
  return root.child({ plugin: pluginId });
}

export type { Logger };
