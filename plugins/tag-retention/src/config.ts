import { Type, type Static } from '@wharf/sdk';

/** The `extensions: { tag-retention: {...} }` section of the Wharf config. */
export const retentionConfigSchema = Type.Object(
  {
    maxRules: Type.Integer({ minimum: 1, maximum: 100, default: 15, description: "rules a project's retention policy may hold (Harbor: 15)" }),
    keepExecutions: Type.Integer({ minimum: 1, maximum: 100000, default: 50, description: 'finished executions kept per project; older ones are deleted with their tasks and decisions' }),
  },
  { additionalProperties: false, default: {} },
);

export type RetentionConfig = Static<typeof retentionConfigSchema>;
