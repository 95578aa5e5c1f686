import { RegistryError, type Digest } from '@wharf/sdk';
import type { Logger } from 'pino';
import { registryDrafts, type ActorInfo } from '../../../events/registry-drafts.js';
import { acceptedManifestTypes, negotiate } from '../../../registry/content-negotiation.js';
import { parseReadReference, parseReference } from '../../../registry/names.js';
import { readLimited } from '../../../registry/streams.js';
import { actorOf, emit, logOf, respondEmpty, type RouteArgs } from './context.js';
import { contentLength } from './http-ranges.js';

/** GET and HEAD `/v2/<name>/manifests/<reference>`. */
export async function getManifest({ ctx, name, params, services }: RouteArgs): Promise<void> {
  const reference = parseReadReference(params[0] ?? '');
  const actor = actorOf(ctx);
  const { hooks } = services.deps;
  await prepare(ctx, name, params[0] ?? '', services);
  let manifest = await services.manifests.resolve(name, reference);
  const choice = negotiate(manifest.mediaType, manifest.payload, acceptedManifestTypes(ctx.get('accept') || undefined));
  if (choice.kind === 'child') {
    await prepare(ctx, name, choice.digest, services);
    manifest = await services.manifests.resolve(name, { kind: 'digest', digest: choice.digest });
  }
  if (hooks.registry.beforePull.isUsed()) {
    await hooks.registry.beforePull.promise({ repository: name, reference: params[0] ?? '', digest: manifest.digest, mediaType: manifest.mediaType, ...actor });
  }
  ctx.status = 200;
  ctx.set('Content-Type', manifest.mediaType);
  ctx.set('Docker-Content-Digest', manifest.digest);
  ctx.set('ETag', `"${manifest.digest}"`);
  ctx.set('Content-Length', String(manifest.size));
  if (ctx.method === 'HEAD') return;
  await recordPull(services, name, params[0] ?? '', manifest, actor, logOf(ctx, services.deps));
  ctx.body = manifest.payload;
  if (hooks.registry.artifactPulled.isUsed()) {
    emit(hooks.registry.artifactPulled, {
      id: crypto.randomUUID(), timestamp: new Date(), repository: name, actor: actor.principal, request: actor.request,
      digest: manifest.digest, reference: params[0] ?? '', mediaType: manifest.mediaType,
    }, logOf(ctx, services.deps), 'artifactPulled');
  }
}

/**
 * Lets `registry.prepareManifest` taps (a pull-through cache) store what the store lacks before
 * it is read, and adds the headers they answer with.
 */
async function prepare(ctx: RouteArgs['ctx'], repository: string, reference: string, services: RouteArgs['services']): Promise<void> {
  const hook = services.deps.hooks.registry.prepareManifest;
  if (!hook.isUsed()) return;
  const prepared = await hook.promise({ repository, reference, method: ctx.method === 'HEAD' ? 'HEAD' : 'GET', ...actorOf(ctx) });
  for (const [key, value] of Object.entries(prepared?.headers ?? {})) ctx.set(key, value);
}

/**
 * Records the pull as a durable event, batched with other pulls: buffered (the GET does not
 * wait), or in group commit when `events.pullFlushMs` is 0. A pull is served even when that
 * write fails: it changes nothing, and refusing it would make the database an availability
 * risk for reads.
 */
async function recordPull(services: RouteArgs['services'], repository: string, reference: string, manifest: { digest: Digest; mediaType: string }, actor: ActorInfo, log: Logger): Promise<void> {
  const draft = registryDrafts.artifactPulled({ repository, digest: manifest.digest, reference, mediaType: manifest.mediaType, count: 1 }, actor);
  const written = services.deps.events.recordPull(draft);
  if (written) await written.catch((err: unknown) => log.error({ err, repository }, 'could not record a pull event'));
}

/** PUT `/v2/<name>/manifests/<reference>`. */
export async function putManifest({ ctx, name, params, services }: RouteArgs): Promise<void> {
  const reference = parseReference(params[0] ?? '');
  const limit = services.deps.registry.maxManifestBytes;
  const tooLarge = () => new RegistryError('MANIFEST_INVALID', `manifest is larger than ${limit} bytes`, { status: 413, detail: { limit } });
  const announced = contentLength(ctx.get('content-length') || undefined);
  if (announced !== undefined && announced > limit) {
    ctx.req.resume();
    throw tooLarge();
  }
  const payload = await readLimited(ctx.req, limit, tooLarge);
  const actor = actorOf(ctx);
  const stored = await services.manifests.put(name, reference, payload, ctx.get('content-type') || undefined, actor);
  respondEmpty(ctx, 201, {
    Location: `/v2/${name}/manifests/${stored.digest}`,
    'Docker-Content-Digest': stored.digest,
    ...(stored.parsed.subject ? { 'OCI-Subject': stored.parsed.subject } : {}),
  });
  emit(services.deps.hooks.registry.manifestPushed, {
    id: crypto.randomUUID(), timestamp: new Date(), repository: name, actor: actor.principal, request: actor.request,
    digest: stored.digest, tag: stored.tag, mediaType: stored.parsed.mediaType, artifactType: stored.parsed.artifactType,
    size: stored.size, subject: stored.parsed.subject,
  }, logOf(ctx, services.deps), 'manifestPushed');
}

/** DELETE `/v2/<name>/manifests/<reference>`: by digest (manifest and its tags) or by tag. */
export async function deleteManifest({ ctx, name, params, services }: RouteArgs): Promise<void> {
  services.manifests.assertDeletesEnabled();
  const reference = parseReference(params[0] ?? '');
  const actor = actorOf(ctx);
  const deleted = await services.manifests.delete(name, reference, actor);
  respondEmpty(ctx, 202);
  emit(services.deps.hooks.registry.manifestDeleted, {
    id: crypto.randomUUID(), timestamp: new Date(), repository: name, actor: actor.principal, request: actor.request,
    digest: deleted.digest, tag: deleted.tag,
  }, logOf(ctx, services.deps), 'manifestDeleted');
}
