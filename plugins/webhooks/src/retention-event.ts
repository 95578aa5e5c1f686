import type { RetentionFinishedData } from '@wharf/sdk';
import type { PayloadContext } from './event-kinds.js';

/**
 * Harbor's `event_data.retention` of a `TAG_RETENTION` webhook, from `retention.execution.finished`
 * (recorded by the tag-retention plugin): counts, the project, the rules with their selectors
 * (`scope_selectors.repository`, `tag_selectors`, untagged in `extras`), the result and one
 * `deleted_artifact` entry per deleted tag (`repo@digest` for an untagged artifact).
 */

const RESULT: Record<RetentionFinishedData['status'], string> = { succeeded: 'Success', failed: 'Error', stopped: 'Stopped' };

export function retentionEventData(data: RetentionFinishedData, context: PayloadContext): Record<string, unknown> {
  return {
    retention: {
      total: data.total,
      retained: data.retained,
      harbor_hostname: context.registryHost,
      project_name: data.project,
      retention_rule: data.rules.map((r) => ({
        template: r.template,
        params: r.params,
        tag_selectors: r.tags.map((t) => ({ ...t, extras: JSON.stringify({ untagged: r.untagged }) })),
        scope_selectors: { repository: r.repositories.map((x) => ({ ...x })) },
      })),
      result: RESULT[data.status],
      deleted_artifact: data.deletedArtifacts.flatMap((a) =>
        (a.tags.length > 0 ? a.tags.map((t) => `${a.repository}:${t}`) : [`${a.repository}@${a.digest}`]).map((nameTag) => ({ type: 'image', status: 'SUCCESS', name_tag: nameTag })),
      ),
    },
    custom_attributes: { execution_id: String(data.executionId), trigger: data.trigger, deleted: String(data.deleted) },
  };
}
