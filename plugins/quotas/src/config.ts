import { Type, type Static } from '@wharf/sdk';
import { SIZE_PATTERN } from './sizes.js';

const Size = (description: string) =>
  Type.Union([Type.Integer({ minimum: -1 }), Type.String({ pattern: SIZE_PATTERN })], { default: -1, description });

/** The `extensions: { quotas: {...} }` section of the Wharf config. */
export const quotasConfigSchema = Type.Object(
  {
    defaults: Type.Object(
      {
        storage: Size("storage quota of a project that has none yet (bytes, or a size such as 10GiB or 500MB; -1 = unlimited, Harbor's default)"),
        count: Type.Integer({ minimum: -1, default: -1, description: 'artifact count quota of a project that has none yet (-1 = unlimited)' }),
        repositoryStorage: Size('storage quota of each repository of a project that has none yet: its manifests and the blobs linked to it (-1 = unlimited; Harbor has none)'),
      },
      { additionalProperties: false, default: {} },
    ),
    warningPercent: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 85,
      description: 'a QUOTA_WARNING event is recorded when a push brings storage or count usage to this share of the quota (Harbor: 85)',
    }),
    reconcile: Type.Object(
      {
        intervalSeconds: Type.Integer({
          minimum: 10,
          maximum: 604_800,
          default: 3600,
          description: 'how often every project\'s usage is recomputed from the registry\'s content, by a scheduled job on one node at a time (corrects what a crash between the gate and the commit left over)',
        }),
        pollMs: Type.Integer({
          minimum: 50,
          maximum: 60_000,
          default: 1000,
          description: 'how often each node looks for projects a delete marked for a recompute (deletes on the node itself start one at once)',
        }),
        settleSeconds: Type.Integer({
          minimum: 0,
          maximum: 3600,
          default: 60,
          description:
            'a charge younger than this survives a recompute that does not see it referenced yet (a push whose manifest is being stored); it is re-examined once it is older',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type QuotasConfig = Static<typeof quotasConfigSchema>;
