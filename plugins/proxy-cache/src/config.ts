import { Type, type Static } from '@wharf/sdk';

/** The `extensions: { proxy-cache: {...} }` section of the Wharf config. */
export const proxyCacheConfigSchema = Type.Object(
  {
    spoolDir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'directory for blobs being fetched from an upstream (each is read back by every client pulling it meanwhile, then deleted); default: a directory under the system temp dir',
      }),
    ),
    upstreamTimeoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 600,
      default: 15,
      description: 'how long a manifest request to an upstream may take before the cached copy is served (stale) or the pull fails',
    }),
    settingsCacheMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 2000,
      description: "how long each node keeps a project's proxy-cache settings in memory before reading them again (a change made on another node counts after this)",
    }),
  },
  { additionalProperties: false, default: {} },
);

export type ProxyCacheConfig = Static<typeof proxyCacheConfigSchema>;
