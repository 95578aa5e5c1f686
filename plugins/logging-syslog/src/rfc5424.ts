import os from 'node:os';
import type { LogRecord } from '@wharf/sdk';

/**
 * RFC 5424 messages: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`. The MSG is the
 * record's JSON line (so receivers keep every field); MSGID is the record's channel (`app`,
 * `audit`), so a receiver can route audit records without parsing the JSON. No structured data.
 */

export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

/** pino level number → syslog severity (fatal → crit, error → err, warn → warning, info, debug). */
export function severityOf(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** PRINTUSASCII (33-126) only, at most `max` characters; `-` when empty (the NILVALUE). */
function header(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

export interface Rfc5424Options {
  readonly facility: Facility;
  readonly appName: string;
  readonly hostname?: string | undefined;
}

export function formatRfc5424(record: LogRecord, options: Rfc5424Options): string {
  const pri = FACILITIES[options.facility] * 8 + severityOf(record.level);
  const time = new Date(record.time).toISOString();
  const host = header(options.hostname ?? os.hostname(), 255);
  return `<${pri}>1 ${time} ${host} ${header(options.appName, 48)} ${process.pid} ${header(record.channel, 32)} - ${record.line}`;
}

/** RFC 6587 octet counting: `<byte length> <message>`, for TCP and TLS. */
export function octetCounted(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}
