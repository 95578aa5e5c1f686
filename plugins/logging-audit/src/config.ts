import { Type, type Static } from '@wharf/sdk';
import { OPERATIONS } from './entries.js';

/** A retention: hours (`36h`) or days (`90d`), or `forever`. */
const DURATION = '^(?:[1-9][0-9]{0,5}[hd]|forever)$';
/** `default`, an operation (`pull`), or a resource type and operation (`tag.delete`). */
const RULE_KEY = `^(?:default|(?:[a-z][a-z0-9-]{0,31}\\.)?(?:${OPERATIONS.join('|')}))$`;

/** The `logging: { audit: {...} }` section of the Wharf config. */
export const auditConfigSchema = Type.Object(
  {
    store: Type.Boolean({
      default: true,
      description: "Write entries to the database (the API reads them there). `false`: only forward them (Harbor's skip_audit_log_database); needs `forward: true`.",
    }),
    forward: Type.Boolean({
      default: false,
      description: "Also write each entry as a log record (`channel: 'audit'`, message `audit`, the entry under `audit`) at info level, for the log sinks (syslog, ...) to carry.",
    }),
    pulls: Type.Object(
      {
        record: Type.Boolean({ default: true, description: "Record pulls at all (Harbor's PULL_AUDIT_LOG_DISABLE turned around). Off: pull events are not even stored for the audit log." }),
        sampleRate: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1,
          default: 1,
          description: 'Share of pull events recorded (1 = all). The choice is made per event id, so a redelivered event gets the same answer. An entry stands for `count` identical pulls of one batch.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    retention: Type.Object(
      { default: Type.String({ pattern: DURATION, default: '90d', description: 'How long entries without a rule of their own are kept.' }) },
      {
        additionalProperties: Type.String({ pattern: DURATION }),
        propertyNames: { pattern: RULE_KEY },
        default: {},
        description: `How long entries are kept, by operation (${OPERATIONS.join(', ')}) or resource type and operation (\`tag.delete\`): \`36h\`, \`90d\` or \`forever\`. The most specific rule wins; \`default\` covers the rest. Example: \`{ default: 90d, pull: 7d, login: 365d }\`.`,
      },
    ),
    purge: Type.Object(
      {
        schedule: Type.Union([Type.String({ minLength: 9, maxLength: 100 }), Type.Null()], {
          default: '17 3 * * *',
          description: 'Cron (UTC) of the retention purge, run through the jobs service once per tick across all nodes; null: only on demand (`POST /api/v1/audit-logs/purges`).',
        }),
        batchSize: Type.Integer({ minimum: 100, maximum: 10_000, default: 2000, description: 'Entries deleted per statement, so no statement holds locks for long.' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type AuditConfig = Static<typeof auditConfigSchema>;

const HOUR = 3_600_000;

/** A retention in milliseconds; `undefined` for `forever`. */
export function durationMs(text: string): number | undefined {
  if (text === 'forever') return undefined;
  const n = Number(text.slice(0, -1));
  return text.endsWith('h') ? n * HOUR : n * 24 * HOUR;
}
