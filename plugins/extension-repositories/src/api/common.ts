import { Type, type AccessRequest, type ApiRequest, type ArtifactService, type ContentActor, type ContentService } from '@wharf/sdk';

/** What the operations need: the kernel's content services. */
export interface ApiDeps {
  readonly artifacts: ArtifactService;
  readonly content: ContentService;
}

export const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }) });
export const RepositoryParams = Type.Object({
  project_name: Type.String({ minLength: 1, maxLength: 255 }),
  repository_name: Type.String({ minLength: 1, maxLength: 512, description: 'The name inside the project; a `/` in it is URL-encoded (`app%2Fweb`; `app%252Fweb` as Harbor\'s clients send it works too).' }),
});
export const ArtifactParams = Type.Object({
  ...RepositoryParams.properties,
  reference: Type.String({ minLength: 1, maxLength: 300, description: 'A digest (`sha256:...`) or a tag.' }),
});

/**
 * The access a project's resource needs, decided by the kernel's `rbac.authorize` hook (the
 * projects plugin answers it with the roles matrix). The resources and actions are Harbor's:
 * `repository` read/list/delete, `artifact` read/list/delete, `tag` create/delete.
 */
export function inProject(project: string, resource: 'repository' | 'artifact' | 'tag', action: 'read' | 'list' | 'create' | 'delete'): AccessRequest {
  return { resource: { type: 'project', name: project, resource }, action };
}

/** Who writes: the caller, as the policy gates and events see a client. */
export const actorOf = (req: ApiRequest): ContentActor => ({ principal: req.principal, request: req.request });
