import { Type, type Static } from '@wharf/sdk';

/** The `extensions: { tag-immutability: {...} }` section of the Wharf config. */
export const tagImmutabilityConfigSchema = Type.Object(
  {
    maxRulesPerProject: Type.Integer({ minimum: 1, maximum: 1000, default: 15, description: "most rules one project may hold (Harbor's limit is 15)" }),
    recheckMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 1000,
      description:
        "how long a node trusts its cached rules of a project before it reads the project's version row again (one indexed read). A rule written on another node takes effect here within this time; on the node that wrote it, at once. 0: read the version on every push and delete",
    }),
  },
  { additionalProperties: false },
);
export type TagImmutabilityConfig = Static<typeof tagImmutabilityConfigSchema>;
