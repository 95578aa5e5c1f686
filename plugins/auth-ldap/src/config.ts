import { Type, type Static } from '@wharf/sdk';

/** Default user filter: `{username}` is replaced by the RFC 4515-escaped user name. */
export const DEFAULT_USER_FILTER = '(&(objectClass=inetOrgPerson)(uid={username}))';
/** Default group filter for `groups.mode: search`: `{dn}` is the escaped DN of the user. */
export const DEFAULT_GROUP_FILTER = '(&(objectClass=groupOfNames)(member={dn}))';

const scope = (description: string) =>
  Type.Union([Type.Literal('sub'), Type.Literal('one'), Type.Literal('base')], { default: 'sub', description });

const GroupsSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('memberOf'), Type.Literal('search'), Type.Literal('none')], {
      default: 'none',
      description:
        '`memberOf`: read the memberOf attribute of the user entry. `search`: one search for the groups whose filter names the user. `none`: no groups.',
    }),
    base: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Base DN of the groups. Required for `search`; with `memberOf` it keeps only groups under this base.',
      }),
    ),
    filter: Type.String({
      minLength: 1,
      default: DEFAULT_GROUP_FILTER,
      description: 'Group search filter; `{dn}` is the escaped user DN, `{username}` the escaped user name.',
    }),
    scope: scope('Scope of the group search.'),
    nameAttribute: Type.String({ minLength: 1, default: 'cn', description: 'Attribute holding the group name.' }),
    adminGroups: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Group DNs or group names whose members become system administrators.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const TlsSchema = Type.Object(
  {
    ca: Type.Optional(
      Type.String({ minLength: 1, description: 'CA certificate(s) to trust: a PEM file path or inline PEM. Default: the system CAs.' }),
    ),
    rejectUnauthorized: Type.Boolean({ default: true, description: 'Verify the server certificate and host name. Leave on.' }),
  },
  { additionalProperties: false, default: {} },
);

/** The `auth: [{ ldap: {...} }]` entry of the Wharf config. */
export const ldapConfigSchema = Type.Object(
  {
    url: Type.String({ pattern: '^ldaps?://[^\\s]+$', description: 'ldap://host:port or ldaps://host:port.' }),
    bindDN: Type.String({ minLength: 1, description: 'DN of the search account.' }),
    bindPassword: Type.String({ minLength: 1, secret: true, description: 'Password of the search account.' }),
    userBase: Type.String({ minLength: 1, description: 'Base DN under which users are searched.' }),
    userFilter: Type.String({
      minLength: 1,
      default: DEFAULT_USER_FILTER,
      description: 'User search filter; `{username}` is replaced by the RFC 4515-escaped user name.',
    }),
    userScope: scope('Scope of the user search.'),
    usernameAttribute: Type.String({
      minLength: 1,
      default: 'uid',
      description: 'Attribute whose value becomes the principal subject (the name as stored in LDAP).',
    }),
    displayNameAttribute: Type.String({ minLength: 1, default: 'cn' }),
    groups: GroupsSchema,
    startTLS: Type.Boolean({ default: false, description: 'Upgrade an ldap:// connection with StartTLS before binding.' }),
    tls: TlsSchema,
    connectTimeoutMs: Type.Integer({ minimum: 1, default: 5000, description: 'TCP (and ldaps handshake) timeout.' }),
    timeoutMs: Type.Integer({ minimum: 1, default: 5000, description: 'Timeout of each LDAP operation.' }),
  },
  { additionalProperties: false },
);

/** The config as validated (defaults applied by the kernel). */
export type LdapConfig = Static<typeof ldapConfigSchema>;
export type LdapScope = LdapConfig['userScope'];
