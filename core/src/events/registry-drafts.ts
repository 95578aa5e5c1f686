import { eventContextOf, registryEvents, type EventActor, type EventDraft, type EventRequest, type Principal, type RequestInfo } from '@wharf/sdk';

/** The registry's durable events, drafted from what the write paths know. Partition: the repository. */

/** Who did it, as the registry's services receive it. */
export interface ActorInfo {
  readonly principal: Principal;
  readonly request?: RequestInfo | undefined;
}

export function eventActor(actor: ActorInfo | undefined): { actor?: EventActor; request?: EventRequest } {
  return actor ? eventContextOf(actor.principal, actor.request) : {};
}

type Data<T> = T extends { readonly T?: infer D } ? D : never;

function draft<K extends keyof typeof registryEvents>(kind: K, repository: string, data: Data<(typeof registryEvents)[K]>, actor: ActorInfo | undefined): EventDraft<unknown> {
  return { type: registryEvents[kind], partition: repository, data, ...eventActor(actor) };
}

export const registryDrafts = {
  manifestPushed: (data: Data<typeof registryEvents.manifestPushed>, actor?: ActorInfo) => draft('manifestPushed', data.repository, data, actor),
  manifestDeleted: (data: Data<typeof registryEvents.manifestDeleted>, actor?: ActorInfo) =>
    draft(data.tag === undefined ? 'manifestDeleted' : 'tagDeleted', data.repository, data, actor),
  blobCommitted: (data: Data<typeof registryEvents.blobCommitted>, actor?: ActorInfo) => draft('blobCommitted', data.repository, data, actor),
  artifactPulled: (data: Data<typeof registryEvents.artifactPulled>, actor?: ActorInfo) => draft('artifactPulled', data.repository, data, actor),
  repositoryDeleted: (data: Data<typeof registryEvents.repositoryDeleted>, actor?: ActorInfo) => draft('repositoryDeleted', data.repository, data, actor),
};
