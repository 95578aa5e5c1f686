import { Type, type Static } from '@wharf/sdk';

/** The `extensions: { gc: {...} }` section of the Wharf config. */
export const gcConfigSchema = Type.Object(
  {
    graceWindowMinutes: Type.Integer({
      minimum: 0,
      maximum: 525_600,
      default: 120,
      description:
        "Blobs pushed or linked within this window are never collected, so a push in progress (layers first, manifest last) keeps its layers (Harbor's 2 h). 0 collects every unreferenced blob; pushes that lose a layer then see BLOB_UNKNOWN on the manifest and push again. Correctness never depends on it (ADR 0029).",
    }),
    deleteUntagged: Type.Boolean({ default: false, description: 'Scheduled runs also delete untagged artifacts (not index children, not referrers of a present subject), through the content service: gates and events apply.' }),
    untaggedOlderThanDays: Type.Integer({ minimum: 0, maximum: 36_500, default: 0, description: 'Only untagged artifacts pushed more than this many days ago.' }),
    workers: Type.Integer({ minimum: 1, maximum: 16, default: 4, description: 'Deletion batches in flight at once (each: one claim transaction, one batched storage delete).' }),
    schedule: Type.Union([Type.String({ minLength: 9, maxLength: 100 }), Type.Null()], {
      default: null,
      description: "Cron (UTC) of scheduled collections, run through the jobs service once per tick across all nodes; null: on demand only (Harbor's default). `PUT /api/v1/system/gc/schedule` overrides it.",
    }),
    lockSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 60, description: 'Lease of the collection lock across nodes, renewed while a run is alive; a killed run frees it after this long.' }),
    historyKeep: Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'Runs kept in the history (with their logs).' }),
    uploads: Type.Object(
      {
        maxAgeHours: Type.Integer({ minimum: 1, maximum: 87_600, default: 168, description: "Uploads idle longer than this are cancelled and their bytes freed (S3: the multipart upload aborted). Harbor's 168 h." }),
        schedule: Type.Union([Type.String({ minLength: 9, maxLength: 100 }), Type.Null()], {
          default: '41 * * * *',
          description: 'Cron (UTC) of the upload purge; null: only as part of a collection.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type GcConfig = Static<typeof gcConfigSchema>;
