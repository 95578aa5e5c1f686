import { CronExpressionParser } from 'cron-parser';

/**
 * Cron expressions: 5 fields, or 6 with seconds first, evaluated in UTC so every node agrees
 * on the ticks whatever its local time zone.
 */

/** Throws a readable error for an expression that is not 5 or 6 valid fields. */
export function checkCron(cron: string): void {
  const fields = cron.trim().split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5 && fields.length !== 6) {
    throw new TypeError(`cron "${cron}" must have 5 fields (or 6 with seconds first), not ${fields.length}`);
  }
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' });
  } catch (err) {
    throw new TypeError(`cron "${cron}" is invalid: ${(err as Error).message}`, { cause: err });
  }
}

/** The first tick strictly after `after` (epoch ms). */
export function nextTick(cron: string, after: number): number {
  return CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: new Date(after) }).next().getTime();
}
