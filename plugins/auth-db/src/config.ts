import { Type, type Static } from '@wharf/sdk';

/** User names: lower case letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$';

const PasswordPolicySchema = Type.Object(
  {
    minLength: Type.Integer({ minimum: 1, maximum: 1024, default: 8, description: 'Fewest characters (Unicode code points) a password may have.' }),
    maxLength: Type.Integer({ minimum: 1, maximum: 1024, default: 128, description: 'Most characters a password may have.' }),
    requireUpper: Type.Boolean({ default: true, description: 'Require an upper case letter.' }),
    requireLower: Type.Boolean({ default: true, description: 'Require a lower case letter.' }),
    requireDigit: Type.Boolean({ default: true, description: 'Require a digit.' }),
  },
  { additionalProperties: false, default: {}, description: 'Checked whenever a password is set, including the bootstrap administrator\'s.' },
);

const BootstrapAdminSchema = Type.Object(
  {
    username: Type.String({
      pattern: USERNAME_PATTERN,
      default: 'admin',
      description:
        'Created at boot when no administrator exists, with `WHARF_ADMIN_PASSWORD` or a generated password written to `<dataDir>/admin-password`.',
    }),
  },
  { additionalProperties: false, default: {} },
);

/** The `auth: [{ db: {...} }]` entry of the Wharf config. */
export const dbAuthConfigSchema = Type.Object(
  {
    passwordPolicy: PasswordPolicySchema,
    bootstrapAdmin: BootstrapAdminSchema,
  },
  { additionalProperties: false },
);

/** The config as validated (defaults applied by the kernel). */
export type DbAuthConfig = Static<typeof dbAuthConfigSchema>;
export type PasswordPolicy = DbAuthConfig['passwordPolicy'];

/** Harbor's DB-mode policy, and the defaults of the schema. */
export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({
  minLength: 8,
  maxLength: 128,
  requireUpper: true,
  requireLower: true,
  requireDigit: true,
});
