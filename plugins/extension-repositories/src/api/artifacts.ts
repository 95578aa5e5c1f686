import { ApiError, Type, type ApiRequest, type ManagementApi, type ManifestContent } from '@wharf/sdk';
import { copyArtifact } from '../copy.js';
import { parseArtifactAddress, parseReference, projectOf, repositoryOf } from '../names.js';
import { ArtifactSchema, artifactView } from '../views.js';
import { actorOf, ArtifactParams, inProject, RepositoryParams, type ApiDeps } from './common.js';

/** `.../repositories/{repository_name}/artifacts`: list, read, delete, copy in, add and remove tags. */

const TagParams = Type.Object({ ...ArtifactParams.properties, tag_name: Type.String({ minLength: 1, maxLength: 128 }) });
const CopyQuery = Type.Object(
  { from: Type.String({ minLength: 3, maxLength: 600, description: 'The artifact to copy: `<project>/<repository>@<digest>` or `<project>/<repository>:<tag>`.' }) },
  { additionalProperties: false },
);
const AddTagBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128, description: 'The new tag.' }) }, { additionalProperties: false });

const CopyResult = Type.Object(
  { repository: Type.String(), digest: Type.String(), tag: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false, $id: 'CopiedArtifact' },
);
const TagResult = Type.Object({ name: Type.String(), digest: Type.String() }, { additionalProperties: false, $id: 'ArtifactTag' });

const encodedName = (repository: string) => encodeURIComponent(repository.slice(repository.indexOf('/') + 1));

export function registerArtifactOperations(api: ManagementApi, deps: ApiDeps): void {
  const { artifacts, content } = deps;

  /** The artifact's stored manifest, or a 404 that names it. */
  const manifestOf = async (repository: string, reference: string): Promise<ManifestContent> => {
    parseReference(reference);
    const found = await artifacts.getManifest(repository, reference);
    if (!found) throw new ApiError('NOT_FOUND', `no artifact ${repository}${reference.includes(':') ? '@' : ':'}${reference}`);
    return found;
  };

  type Params = { project_name: string; repository_name: string };
  const target = (req: ApiRequest<Params>) => repositoryOf(req.params.project_name, req.params.repository_name);

  api.operation({
    operationId: 'listArtifacts',
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts',
    tag: 'repositories',
    summary: "List a repository's artifacts",
    description: 'Newest push first, with tags, sizes, media and artifact types, an index\'s platforms, referrers (signatures, SBOMs), push and pull times.',
    list: true,
    anonymous: true,
    params: RepositoryParams,
    response: ArtifactSchema,
    async handler(req) {
      const repository = target(req);
      await req.authorize(inProject(req.params.project_name, 'artifact', 'list'));
      const page = await artifacts.findArtifacts(repository, { page: req.page.page, pageSize: req.page.pageSize });
      return { items: await Promise.all(page.items.map((a) => artifactView(artifacts, a))), total: page.total };
    },
  });

  api.operation({
    operationId: 'copyArtifact',
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts',
    tag: 'repositories',
    summary: 'Copy an artifact from another repository into this one',
    description:
      "Harbor's copy: blobs are mounted, manifests put (an index's children and the artifact's referrers too). Needs pull on the source and push on this repository. Copied by tag, the copy gets the tag; by digest, it is untagged.",
    params: RepositoryParams,
    query: CopyQuery,
    response: CopyResult,
    status: 201,
    async handler(req) {
      const repository = target(req);
      const source = parseArtifactAddress(req.query.from);
      await req.authorize({ resource: { type: 'repository', name: repository }, action: 'push' });
      if (!(await req.may({ resource: { type: 'repository', name: source.repository }, action: 'pull' }))) {
        // The same answer whether the source's project is private or absent.
        throw new ApiError('NOT_FOUND', `no artifact ${req.query.from.slice(0, 300)} that you may pull`);
      }
      const copied = await copyArtifact({ artifacts, content }, source, repository, actorOf(req));
      req.setHeader('Location', `/api/v1/projects/${projectOf(repository)}/repositories/${encodedName(repository)}/artifacts/${copied.digest}`);
      req.logger.info({ from: req.query.from, repository, digest: copied.digest, by: req.principal.subject }, 'artifact copied');
      return { repository, digest: copied.digest, tag: copied.tag ?? null };
    },
  });

  api.operation({
    operationId: 'getArtifact',
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
    tag: 'repositories',
    summary: 'Get an artifact by digest or tag',
    anonymous: true,
    params: ArtifactParams,
    response: ArtifactSchema,
    async handler(req) {
      const repository = target(req);
      parseReference(req.params.reference);
      await req.authorize(inProject(req.params.project_name, 'artifact', 'read'));
      const found = await artifacts.getArtifact(repository, req.params.reference);
      if (!found) throw new ApiError('NOT_FOUND', `no artifact ${repository}${req.params.reference.includes(':') ? '@' : ':'}${req.params.reference}`);
      return artifactView(artifacts, found);
    },
  });

  api.operation({
    operationId: 'deleteArtifact',
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
    tag: 'repositories',
    summary: 'Delete an artifact (by digest, or by one of its tags) with all its tags',
    description: 'Through the policy gates (`registry.beforeDelete`); 405 when `registry.deleteEnabled` is false. Its blobs stay until garbage collection.',
    params: ArtifactParams,
    async handler(req) {
      const repository = target(req);
      parseReference(req.params.reference);
      await req.authorize(inProject(req.params.project_name, 'artifact', 'delete'));
      const manifest = await manifestOf(repository, req.params.reference);
      await content.deleteManifest(repository, manifest.digest, actorOf(req));
      req.logger.info({ repository, digest: manifest.digest, by: req.principal.subject }, 'artifact deleted');
      return undefined;
    },
  });

  api.operation({
    operationId: 'createTag',
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags',
    tag: 'repositories',
    summary: 'Add a tag to an artifact',
    description: '409 when the repository has the tag already (delete it first to move it). Goes through `registry.beforeManifestPut`, as a push of the tag.',
    params: ArtifactParams,
    body: AddTagBody,
    response: TagResult,
    status: 201,
    async handler(req) {
      const repository = target(req);
      parseReference(req.params.reference);
      const tag = req.body.name;
      const parsed = parseReference(tag);
      if (parsed.kind !== 'tag') throw new ApiError('BAD_REQUEST', `invalid tag "${tag.slice(0, 128)}"`);
      await req.authorize(inProject(req.params.project_name, 'tag', 'create'));
      const manifest = await manifestOf(repository, req.params.reference);
      const existing = await artifacts.resolveTag(repository, tag);
      if (existing !== undefined) throw new ApiError('CONFLICT', `${repository} has the tag ${tag} already (on ${existing})`);
      await content.putManifest(repository, tag, { payload: manifest.payload, mediaType: manifest.mediaType }, actorOf(req));
      req.setHeader('Location', `/api/v1/projects/${projectOf(repository)}/repositories/${encodedName(repository)}/artifacts/${tag}`);
      req.logger.info({ repository, tag, digest: manifest.digest, by: req.principal.subject }, 'tag created');
      return { name: tag, digest: manifest.digest };
    },
  });

  api.operation({
    operationId: 'deleteTag',
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}',
    tag: 'repositories',
    summary: 'Remove a tag from an artifact (the artifact stays)',
    params: TagParams,
    async handler(req) {
      const repository = target(req);
      parseReference(req.params.reference);
      const tag = req.params.tag_name;
      if (parseReference(tag).kind !== 'tag') throw new ApiError('BAD_REQUEST', `invalid tag "${tag.slice(0, 128)}"`);
      await req.authorize(inProject(req.params.project_name, 'tag', 'delete'));
      const manifest = await manifestOf(repository, req.params.reference);
      if ((await artifacts.resolveTag(repository, tag)) !== manifest.digest) throw new ApiError('NOT_FOUND', `artifact ${manifest.digest} of ${repository} has no tag ${tag}`);
      await content.deleteTag(repository, tag, actorOf(req));
      req.logger.info({ repository, tag, digest: manifest.digest, by: req.principal.subject }, 'tag deleted');
      return undefined;
    },
  });
}
