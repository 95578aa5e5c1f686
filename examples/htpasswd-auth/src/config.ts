import { Type, type Static } from '@wharf/sdk';

/** The `auth: [{ htpasswd: {...} }]` entry of the Wharf config. */
export const htpasswdConfigSchema = Type.Object(
  {
    file: Type.String({
      minLength: 1,
      description:
        'The htpasswd file (bcrypt entries only, as `htpasswd -B` writes them). A relative path is resolved against the data directory. Re-read when it changes.',
    }),
    admins: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      uniqueItems: true,
      description: 'User names of the file that become system administrators.',
    }),
  },
  { additionalProperties: false },
);

/** The config as validated (defaults applied by the kernel). */
export type HtpasswdConfig = Static<typeof htpasswdConfigSchema>;
