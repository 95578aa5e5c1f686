import { managementEvent, type EventConsumer, type ResourceChangedData } from '@wharf/sdk';
import type { RuleCache } from './rule-cache.js';
import type { RuleStore } from './rule-store.js';

/** Recorded by the projects RBAC plugin when a project is deleted. */
const projectDeleted = managementEvent('project', 'deleted');

/**
 * A durable consumer: when a project is deleted, its rules go too, so a new project of the same
 * name starts without them. Idempotent (a second delivery finds nothing to delete).
 */
export function projectCleanupConsumer(deps: () => { store: RuleStore; cache: RuleCache } | undefined): EventConsumer {
  return {
    name: 'tag-immutability-project-cleanup',
    types: [projectDeleted],
    concurrency: 1,
    async handle({ event, logger }) {
      const ready = deps();
      if (!ready) throw new Error('tag-immutability plugin not initialised');
      const data = event.data as ResourceChangedData;
      const project = data.project ?? data.id;
      if (!project) return;
      const removed = await ready.store.removeProject(project, event.occurredAt.getTime());
      ready.cache.invalidate(project);
      if (removed > 0) logger.info({ project, rules: removed }, 'immutability rules of a deleted project removed');
    },
  };
}
