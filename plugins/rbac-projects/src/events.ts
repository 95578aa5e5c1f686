import { eventContextOf, managementEvent, recordChange, type ApiRequest, type EventType, type ResourceChangedData } from '@wharf/sdk';
import type { ProjectsService } from './services.js';

/**
 * The plugin's management events, recorded in the same transaction as the change they describe
 * (through `coreServices.database.transaction`), for the audit log, webhooks and anyone else
 * consuming `management.*`. Project-scoped resources share the project's partition, so a
 * project's events arrive in order.
 */

const actions = (resource: string) => ({
  created: managementEvent(resource, 'created'),
  updated: managementEvent(resource, 'updated'),
  deleted: managementEvent(resource, 'deleted'),
});

export const projectsEvents = Object.freeze({
  project: actions('project'),
  member: actions('member'),
  robot: actions('robot'),
  userGroup: actions('user-group'),
});

/** Runs `change` and records `type` for what `describe` says changed, in one transaction. */
export function recorded<T>(
  service: ProjectsService,
  req: ApiRequest<unknown, unknown, unknown>,
  type: EventType<ResourceChangedData>,
  change: () => Promise<T>,
  describe: (result: T) => ResourceChangedData,
): Promise<T> {
  const { database, events } = service;
  return recordChange({ database, events }, change, (result) => {
    const data = describe(result);
    const partition = data.project !== undefined ? `project:${data.project}` : `${data.resource}:${data.id}`;
    return { type, partition, data, ...eventContextOf(req.principal, req.request) };
  });
}
