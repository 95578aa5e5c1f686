import { RegistryError } from '@wharf/sdk';
import { MediaTypes } from '../../../registry/media-types.js';
import { requireDigest } from '../../../registry/names.js';
import { actorOf, type RouteArgs, type V2Context, type V2Deps } from './context.js';
import { pageOf, sendPage } from './pagination.js';

/** GET `/v2/<name>/tags/list?n=&last=`. */
export async function listTags({ ctx, name, services }: RouteArgs): Promise<void> {
  const found = await sendPage(ctx, pageOf(ctx), (page) => services.deps.metadata.listTags(name, page), (tags) => ({ name, tags }));
  if (!found) throw new RegistryError('NAME_UNKNOWN', undefined, { detail: { name } });
}

/** GET `/v2/_catalog?n=&last=`. */
export async function listCatalog(ctx: V2Context, deps: V2Deps): Promise<void> {
  await sendPage(ctx, pageOf(ctx), (page) => deps.metadata.listRepositories(page), (repositories) => ({ repositories }));
}

/**
 * GET `/v2/<name>/referrers/<digest>[?artifactType=]`: an image index of the manifests whose
 * `subject` is the digest. Always 200 (an empty index when there are none), as the spec requires
 * of registries that support the API.
 */
export async function listReferrers({ ctx, name, params, services }: RouteArgs): Promise<void> {
  const subject = requireDigest(params[0]);
  const filter = ctx.query.artifactType;
  if (Array.isArray(filter)) throw new RegistryError('UNSUPPORTED', 'artifactType may be given once', { status: 400 });
  const artifactType = filter === '' ? undefined : filter;
  const hook = services.deps.hooks.registry.prepareReferrers;
  if (hook.isUsed()) {
    const prepared = await hook.promise({ repository: name, subject, ...actorOf(ctx) });
    for (const [key, value] of Object.entries(prepared?.headers ?? {})) ctx.set(key, value);
  }
  const referrers = await services.manifests.referrers(name, subject, artifactType);
  if (artifactType !== undefined) ctx.set('OCI-Filters-Applied', 'artifactType');
  ctx.status = 200;
  ctx.type = MediaTypes.ociIndex;
  ctx.body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: referrers.map((r) => ({
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.size,
      ...(r.artifactType ? { artifactType: r.artifactType } : {}),
      ...(r.annotations ? { annotations: r.annotations } : {}),
    })),
  });
}
