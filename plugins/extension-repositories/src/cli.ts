import {
  ApiError,
  CliRefusal,
  coreServices,
  defineCliCommand,
  formatTable,
  isRegistryError,
  type ArtifactService,
  type CliCall,
  type CliCommandGroup,
  type ContentActor,
  type ContentService,
  type Principal,
} from '@wharf/sdk';
import { isRepositoryName, parseArtifactAddress } from './names.js';

/**
 * `wharf repo list|delete` and `wharf artifact list|delete`: repositories and artifacts on the
 * configured database and storage, through the kernel's content services, for scripts (`--json`).
 * Deletes go through the policy gates and `registry.deleteEnabled` as an API delete does, and
 * record the same events, with the operator's CLI as the actor.
 */

const CLI_PRINCIPAL: Principal = Object.freeze({ subject: 'wharf-cli', kind: 'system', provider: 'cli', admin: true, groups: Object.freeze([]) as readonly string[] });
const actor: ContentActor = { principal: CLI_PRINCIPAL };
const json = { flags: '--json', description: 'print JSON instead of a table' };
const deps = { artifacts: coreServices.artifacts, content: coreServices.content };
type Deps = { artifacts: ArtifactService; content: ContentService };

/** API and registry refusals (bad name, unknown artifact, deletes disabled, a gate) become one-line CLI refusals. */
const refusing =
  (run: (deps: Deps, call: CliCall) => Promise<number>) =>
  async (resolved: Deps, call: CliCall): Promise<number> => {
    try {
      return await run(resolved, call);
    } catch (err) {
      if (err instanceof ApiError) throw new CliRefusal(err.code, err.message);
      if (isRegistryError(err) && err.status < 500) throw new CliRefusal(err.code, err.message);
      throw err;
    }
  };

const human = (bytes: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
};

const repoList = defineCliCommand({
  usage: 'list <project>',
  description: "list a project's repositories: name, artifacts, tags, size, updated",
  options: [{ flags: '--search <text>', description: 'only names containing this text' }, json],
  deps,
  run: refusing(async ({ artifacts }, { args: [project = ''], options, stdout }) => {
    if (!isRepositoryName(project) || project.includes('/')) throw new CliRefusal('BAD_REQUEST', `"${project}" is not a project name`);
    const search = typeof options['search'] === 'string' ? options['search'] : undefined;
    const all = [];
    for (let page = 1; ; page++) {
      const found = await artifacts.findRepositories({ namespace: project, contains: search, page, pageSize: 1000 });
      all.push(...found.items);
      if (found.items.length === 0 || all.length >= found.total) break;
    }
    if (options['json'] === true) {
      stdout(JSON.stringify(all.map((r) => ({ name: r.name, artifactCount: r.artifactCount, tagCount: r.tagCount, size: r.size, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() })), null, 2));
      return 0;
    }
    stdout(formatTable(['NAME', 'ARTIFACTS', 'TAGS', 'SIZE', 'UPDATED'], all.map((r) => [r.name, String(r.artifactCount), String(r.tagCount), human(r.size), r.updatedAt.toISOString()])));
    return 0;
  }),
});

const repoDelete = defineCliCommand({
  usage: 'delete <repository>',
  description: 'delete a repository (<project>/<name>) with all its artifacts and tags; blobs stay for garbage collection',
  deps,
  run: refusing(async ({ artifacts, content }, { args: [repository = ''], stdout }) => {
    if (!isRepositoryName(repository) || !repository.includes('/')) throw new CliRefusal('BAD_REQUEST', `"${repository}" is not a repository name of a project (<project>/<name>)`);
    if (!(await artifacts.getRepository(repository))) throw new CliRefusal('NOT_FOUND', `no repository ${repository}`);
    const { artifacts: count } = await content.deleteRepository(repository, actor);
    stdout(`repository ${repository} deleted (${count} ${count === 1 ? 'artifact' : 'artifacts'})`);
    return 0;
  }),
});

const artifactList = defineCliCommand({
  usage: 'list <repository>',
  description: "list a repository's artifacts, newest first: digest, tags, type, size, pushed, pulled",
  options: [json],
  deps,
  run: refusing(async ({ artifacts }, { args: [repository = ''], options, stdout }) => {
    if (!isRepositoryName(repository) || !repository.includes('/')) throw new CliRefusal('BAD_REQUEST', `"${repository}" is not a repository name of a project (<project>/<name>)`);
    if (!(await artifacts.getRepository(repository))) throw new CliRefusal('NOT_FOUND', `no repository ${repository}`);
    const all = [];
    for (let page = 1; ; page++) {
      const found = await artifacts.findArtifacts(repository, { page, pageSize: 1000 });
      all.push(...found.items);
      if (found.items.length === 0 || all.length >= found.total) break;
    }
    if (options['json'] === true) {
      stdout(
        JSON.stringify(
          all.map((a) => ({
            digest: a.digest,
            tags: a.tags,
            mediaType: a.mediaType,
            artifactType: a.artifactType ?? null,
            size: a.size,
            subject: a.subject ?? null,
            pushedAt: a.pushedAt.toISOString(),
            pulledAt: a.pulledAt?.toISOString() ?? null,
          })),
          null,
          2,
        ),
      );
      return 0;
    }
    stdout(formatTable(['DIGEST', 'TAGS', 'TYPE', 'SIZE', 'PUSHED', 'PULLED'], all.map((a) => [a.digest, a.tags.join(',') || '-', a.artifactType ?? a.mediaType, human(a.size), a.pushedAt.toISOString(), a.pulledAt?.toISOString() ?? '-'])));
    return 0;
  }),
});

const artifactDelete = defineCliCommand({
  usage: 'delete <artifact>',
  description: 'delete an artifact (<project>/<name>@<digest|tag> or <project>/<name>:<tag>) with all its tags',
  deps,
  run: refusing(async ({ artifacts, content }, { args: [address = ''], stdout }) => {
    const { repository, reference } = parseArtifactAddress(address, 'artifact');
    const ref = reference.kind === 'digest' ? reference.digest : reference.tag;
    const manifest = await artifacts.getManifest(repository, ref);
    if (!manifest) throw new CliRefusal('NOT_FOUND', `no artifact ${address}`);
    await content.deleteManifest(repository, manifest.digest, actor);
    stdout(`artifact ${repository}@${manifest.digest} deleted`);
    return 0;
  }),
});

/** `wharf repo ...` and `wharf artifact ...`, contributed by the plugin. */
export const repositoriesCommands: readonly CliCommandGroup[] = Object.freeze([
  { name: 'repo', description: 'list and delete repositories (extensions: { repositories: {} })', commands: [repoList, repoDelete] },
  { name: 'artifact', description: 'list and delete artifacts of a repository', commands: [artifactList, artifactDelete] },
]);
