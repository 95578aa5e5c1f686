import { Type, type Static } from '@wharf/sdk';
import { DEFAULT_DENIED_NETWORKS } from './targets/network-guard.js';

/** The `extensions: { webhooks: {...} }` section of the Wharf config. */
export const webhooksConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        "Harbor's notification_enable: when false, no event creates deliveries (policies stay, deliveries already queued are still sent).",
    }),
    pullEvents: Type.Boolean({
      default: true,
      description:
        'subscribe to pull events, so PULL_ARTIFACT policies work; pulls are then recorded as durable events (buffered, see events.pullFlushMs), and a pull of a project without a PULL_ARTIFACT policy costs the fan-out no query. false: PULL_ARTIFACT policies receive nothing',
    }),
    delivery: Type.Object(
      {
        timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000, description: 'how long one attempt may take (connect, send, answer)' }),
        maxAttempts: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 12,
          description: 'attempts before a delivery is marked failed; with the default backoff 12 attempts span about 25 minutes, so a receiver down for a while still gets every event',
        }),
        backoffMs: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 2000, description: 'delay before the first retry, doubling per retry' }),
        maxBackoffMs: Type.Integer({ minimum: 10, maximum: 86_400_000, default: 300_000, description: 'longest delay between two attempts' }),
        concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 32, description: 'deliveries in flight at once on each node (mostly waiting on receivers: raise it for many slow ones)' }),
        perPolicyConcurrency: Type.Integer({
          minimum: 1,
          maximum: 256,
          default: 4,
          description: "deliveries of one policy in flight at once on each node, so a slow receiver cannot take every slot from the others",
        }),
        pollIntervalMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000, description: 'how often each node looks for due deliveries (new events wake it at once)' }),
        deniedNetworks: Type.Array(Type.String({ minLength: 3, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$' }), {
          maxItems: 256,
          default: [...DEFAULT_DENIED_NETWORKS],
          description:
            "networks (address/prefix) the built-in http and slack targets never connect to, checked against a receiver's resolved addresses on every connection and against an IP address when a policy is saved: a project admin or maintainer chooses the address, this keeps them from reaching what only the registry's host reaches. The default denies link-local addresses and cloud metadata services; add 127.0.0.0/8, ::1/128 and your private ranges when no receiver lives there",
        }),
        leaseSeconds: Type.Integer({
          minimum: 1,
          maximum: 3600,
          default: 60,
          description: 'a delivery claimed by a node that then died is taken over after this long; must exceed timeoutMs',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    history: Type.Object(
      {
        maxPerPolicy: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: 'finished deliveries kept per policy (newest first)' }),
        maxAgeDays: Type.Integer({ minimum: 1, maximum: 3650, default: 14, description: 'finished deliveries older than this are removed' }),
        purgeIntervalSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 3600, description: 'how often each node trims the history' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type WebhooksConfig = Static<typeof webhooksConfigSchema>;
