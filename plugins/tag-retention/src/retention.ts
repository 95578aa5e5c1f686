import { createServiceRef, managementEvent, type ArtifactService, type ContentService, type DatabaseService, type EventService, type JobService, type Logger } from '@wharf/sdk';
import type { RetentionPolicy, RetentionRule } from './model.js';
import { RetentionRunner } from './runner.js';
import { RetentionStore } from './store.js';

/** The plugin's service: its store, its runner, and policy changes that keep the schedule in step. */
export interface Retention {
  readonly store: RetentionStore;
  readonly runner: RetentionRunner;
  /** `extensions.tag-retention.maxRules`. */
  readonly maxRules: number;
  putPolicy(project: string, rules: readonly RetentionRule[], cron: string | undefined, by: string | undefined): Promise<RetentionPolicy>;
  deletePolicy(project: string): Promise<boolean>;
  /** Declares the job types and the durable consumer. Call once, from the plugin's init. */
  install(): void;
}

/** The durable consumer that removes a deleted project's policy. */
export const PROJECT_DELETED_CONSUMER = 'tag-retention-project-deleted';

export const retentionServiceRef = createServiceRef<Retention>({ id: 'tag-retention.service' });

export interface RetentionDeps {
  readonly database: DatabaseService;
  readonly events: EventService;
  readonly jobs: JobService;
  readonly artifacts: ArtifactService;
  readonly content: ContentService;
  readonly logger: Logger;
  readonly keepExecutions: number;
  readonly maxRules: number;
}

export function createRetention(deps: RetentionDeps): Retention {
  const store = new RetentionStore(deps.database.knex);
  const runner = new RetentionRunner({ ...deps, store });
  const service: Retention = {
    store,
    runner,
    maxRules: deps.maxRules,
    async putPolicy(project, rules, cron, by) {
      const policy = await store.putPolicy(project, rules, cron, by);
      await runner.syncSchedule(project, cron);
      return policy;
    },
    async deletePolicy(project) {
      const deleted = await store.deletePolicy(project);
      await runner.syncSchedule(project, undefined);
      return deleted;
    },
    install() {
      runner.install();
      // A deleted project takes its policy and schedule along: a project created later under the
      // same name must not inherit rules that delete its artifacts. Idempotent, so at-least-once is fine.
      deps.events.subscribe({
        name: PROJECT_DELETED_CONSUMER,
        types: [managementEvent('project', 'deleted')],
        handle: async ({ event }) => {
          const project = (event.data as { id?: unknown }).id;
          if (typeof project === 'string') await service.deletePolicy(project);
        },
      });
    },
  };
  return service;
}
