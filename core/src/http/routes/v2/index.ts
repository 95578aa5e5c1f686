import Router from '@koa/router';
import { RegistryError, type AccessRequest } from '@wharf/sdk';
import { ManifestService } from '../../../registry/manifest-service.js';
import { assertRepositoryName } from '../../../registry/names.js';
import { UploadService } from '../../../registry/upload-service.js';
import { authenticate, authorize } from './access.js';
import { deleteBlob, getBlob } from './blobs.js';
import type { RouteArgs, V2Context, V2Deps, V2Services } from './context.js';
import { listCatalog, listReferrers, listTags } from './listings.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './uploads.js';

export type { V2Deps } from './context.js';

type Handler = (args: RouteArgs) => Promise<void>;

/** One OCI endpoint: a path pattern whose first group is the repository name, and its methods. */
interface Endpoint {
  /** The route template metrics and traces see instead of the path (which holds names and digests). */
  readonly route: string;
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, { handler: Handler; action: 'pull' | 'push' | 'delete' }>>;
}

// Names may contain slashes, so each pattern anchors on the fixed suffix after a greedy name.
const ENDPOINTS: readonly Endpoint[] = [
  { route: '/v2/{name}/blobs/uploads/', pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: { handler: startUpload, action: 'push' } } },
  {
    route: '/v2/{name}/blobs/uploads/{uuid}',
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: {
      GET: { handler: uploadStatus, action: 'push' },
      PATCH: { handler: patchUpload, action: 'push' },
      PUT: { handler: finishUpload, action: 'push' },
      DELETE: { handler: cancelUpload, action: 'push' },
    },
  },
  {
    route: '/v2/{name}/blobs/{digest}',
    pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/,
    methods: { GET: { handler: getBlob, action: 'pull' }, HEAD: { handler: getBlob, action: 'pull' }, DELETE: { handler: deleteBlob, action: 'delete' } },
  },
  {
    route: '/v2/{name}/manifests/{reference}',
    pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    methods: {
      GET: { handler: getManifest, action: 'pull' },
      HEAD: { handler: getManifest, action: 'pull' },
      PUT: { handler: putManifest, action: 'push' },
      DELETE: { handler: deleteManifest, action: 'delete' },
    },
  },
  { route: '/v2/{name}/tags/list', pattern: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: { handler: listTags, action: 'pull' } } },
  { route: '/v2/{name}/referrers/{digest}', pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: { handler: listReferrers, action: 'pull' } } },
];

function repositoryAccess(name: string, action: string): AccessRequest {
  return { resource: { type: 'repository', name }, action };
}

/** What a request needs: its action on the repository, and pull on a mount's source. */
function accessesFor(ctx: V2Context, name: string, action: string): AccessRequest[] {
  const accesses = [repositoryAccess(name, action)];
  const from = ctx.query.from;
  if (ctx.method === 'POST' && typeof from === 'string' && typeof ctx.query.mount === 'string' && from !== name) {
    accesses.push(repositoryAccess(assertRepositoryName(from), 'pull'));
  }
  return accesses;
}

/**
 * The OCI Distribution API v1.1 under `/v2/`. Paths are matched by hand rather than by router
 * patterns because repository names contain slashes and must be validated before use.
 */
export function createV2Router(deps: V2Deps): Router {
  const services: V2Services = {
    deps,
    manifests: new ManifestService({ metadata: deps.metadata, hooks: deps.hooks, deleteEnabled: deps.registry.deleteEnabled, events: deps.events }),
    uploads: new UploadService({
      storage: deps.storage,
      metadata: deps.metadata,
      logger: deps.logger,
      leaseMs: deps.registry.uploadLeaseMs,
      events: deps.events,
      hooks: deps.hooks,
      limits: { perRepository: deps.registry.maxOpenUploadsPerRepository, perOwner: deps.registry.maxOpenUploadsPerUser },
    }),
  };
  const router = new Router();

  const dispatch = async (ctx: V2Context): Promise<void> => {
    ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
    ctx.state.principal = await authenticate(ctx, deps);
    const path = ctx.path;
    if (path === '/v2/' || path === '/v2') {
      ctx.state.route = '/v2/';
      if (!['GET', 'HEAD'].includes(ctx.method)) throw methodNotAllowed(['GET', 'HEAD']);
      await authorize(ctx, deps, []);
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = '{}';
      return;
    }
    if (path === '/v2/_catalog') {
      ctx.state.route = '/v2/_catalog';
      if (ctx.method !== 'GET') throw methodNotAllowed(['GET']);
      await authorize(ctx, deps, [{ resource: { type: 'registry', name: 'catalog' }, action: '*' }]);
      return listCatalog(ctx, deps);
    }
    for (const endpoint of ENDPOINTS) {
      const match = endpoint.pattern.exec(path);
      if (!match) continue;
      ctx.state.route = endpoint.route;
      const name = assertRepositoryName(match[1] ?? '');
      const method = endpoint.methods[ctx.method];
      if (!method) throw methodNotAllowed(Object.keys(endpoint.methods));
      await authorize(ctx, deps, accessesFor(ctx, name, method.action));
      return method.handler({ ctx, name, params: match.slice(2), services });
    }
    throw new RegistryError('NAME_INVALID', 'no such endpoint or invalid repository name', { status: 404 });
  };

  router.all('/v2', dispatch);
  router.all('/v2/{*rest}', dispatch);
  return router;
}

function methodNotAllowed(allowed: string[]): RegistryError {
  return new RegistryError('UNSUPPORTED', 'method not allowed', { status: 405, headers: { Allow: allowed.join(', ') } });
}
