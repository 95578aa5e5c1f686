import { Type, type Static } from '@wharf/sdk';

/** The `storage: { fs: {...} }` section of the Wharf config. */
export const fsConfigSchema = Type.Object(
  {
    root: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Directory holding blobs/ and uploads/. Defaults to the kernel data directory; a relative path is resolved against it. ' +
          'Must be one filesystem (commits rename uploads into blobs/). Several Wharf nodes may share it over a POSIX filesystem.',
        // `wharf config print` shows the effective root.
        'x-default-from': '{dataDir}',
      }),
    ),
    fsync: Type.Boolean({
      default: true,
      description: 'fsync files and directories before acknowledging a write. Turn off only for throwaway data (tests, caches).',
    }),
  },
  { additionalProperties: false },
);

export type FsConfig = Static<typeof fsConfigSchema>;
