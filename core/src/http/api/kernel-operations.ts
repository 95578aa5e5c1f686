import { Type, type ManagementApi } from '@wharf/sdk';

/**
 * The kernel's own operations: who is calling (`GET /users/current`) and what this registry is
 * (`GET /systeminfo`, open to anonymous callers, so nothing secret goes in it). The OpenAPI
 * document itself is served by the router at `/api/v1/openapi.json`.
 */

export interface KernelOperationDeps {
  readonly version: string;
  /** The public URL, final only once the server listens. */
  readonly publicUrl: () => string;
  /** Token auth's realm and service, or `undefined` when it is off. */
  readonly token: () => { readonly realm: string; readonly service: string } | undefined;
}

export const CurrentUserSchema = Type.Object(
  {
    subject: Type.String({ description: 'User or robot name.' }),
    kind: Type.Union([Type.Literal('user'), Type.Literal('robot'), Type.Literal('system')]),
    provider: Type.String({ description: 'The auth plugin that vouched for the caller.' }),
    admin: Type.Boolean({ description: 'System administrator.' }),
    groups: Type.Array(Type.String()),
    displayName: Type.Optional(Type.String()),
  },
  { $id: 'CurrentUser', additionalProperties: false },
);

export const SystemInfoSchema = Type.Object(
  {
    version: Type.String({ description: 'Wharf (kernel) version.' }),
    registryUrl: Type.String({ description: 'The registry\'s public URL.' }),
    tokenAuth: Type.Object(
      {
        enabled: Type.Boolean(),
        realm: Type.Optional(Type.String({ description: 'Token endpoint clients are sent to.' })),
        service: Type.Optional(Type.String({ description: 'Service name (token audience).' })),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'SystemInfo', additionalProperties: false },
);

export function registerKernelOperations(api: ManagementApi, deps: KernelOperationDeps): void {
  api.operation({
    operationId: 'getCurrentUser',
    method: 'GET',
    path: '/users/current',
    tag: 'users',
    summary: 'The caller',
    description: 'Who the credentials of this request belong to, as the auth providers described them.',
    response: CurrentUserSchema,
    async handler({ principal }) {
      return {
        subject: principal.subject,
        kind: principal.kind as 'user' | 'robot' | 'system',
        provider: principal.provider,
        admin: principal.admin,
        groups: [...principal.groups],
        ...(principal.displayName === undefined ? {} : { displayName: principal.displayName }),
      };
    },
  });

  api.operation({
    operationId: 'getSystemInfo',
    method: 'GET',
    path: '/systeminfo',
    tag: 'system',
    summary: 'Facts about this registry',
    description: 'Version, public URL and token auth settings clients need; open to anonymous callers.',
    anonymous: true,
    response: SystemInfoSchema,
    async handler() {
      const token = deps.token();
      return {
        version: deps.version,
        registryUrl: deps.publicUrl(),
        tokenAuth: token ? { enabled: true, realm: token.realm, service: token.service } : { enabled: false },
      };
    },
  });
}
