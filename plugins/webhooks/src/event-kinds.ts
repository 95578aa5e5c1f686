import { registryEvents, retentionEvents, type EventEnvelope, type EventType } from '@wharf/sdk';
import { retentionEventData } from './retention-event.js';
import { quotaExceeded, quotaWarning, type QuotaEventData } from './quota-event.js';
import { replicationStatusChanged } from './replication-event.js';

/**
 * The webhook event types: for each, the durable event it comes from, Harbor's name (what
 * policies subscribe to and the default payload's `type`), the CloudEvents type, the project
 * whose policies hear of it, and Harbor's `event_data`. Retention events join this list the
 * same way once something records them.
 */

export interface PayloadContext {
  /** `host[:port]` of the registry, for `resource_url`. */
  readonly registryHost: string;
}

export interface WebhookEventKind {
  /** Harbor's name, e.g. `PUSH_ARTIFACT`. */
  readonly harborType: string;
  readonly cloudEventType: string;
  readonly source: EventType<unknown>;
  readonly description: string;
  /** The project whose policies receive the event, or undefined for none. */
  project(event: EventEnvelope): string | undefined;
  eventData(event: EventEnvelope, context: PayloadContext): Record<string, unknown>;
}

interface ArtifactData {
  readonly repository: string;
  readonly digest: string;
  readonly tag?: string | undefined;
  readonly reference?: string;
  readonly count?: number;
}

function projectOfRepository(repository: string): string | undefined {
  const slash = repository.indexOf('/');
  return slash > 0 ? repository.slice(0, slash) : undefined;
}

/** Harbor's `repository` object. */
function repositoryOf(full: string): Record<string, unknown> {
  const slash = full.indexOf('/');
  return {
    name: slash > 0 ? full.slice(slash + 1) : full,
    namespace: slash > 0 ? full.slice(0, slash) : '',
    repo_full_name: full,
    // Project visibility belongs to the RBAC plugin, which this plugin does not depend on.
    repo_type: 'private',
  };
}

function artifactData(event: EventEnvelope, context: PayloadContext, tag: string | undefined): Record<string, unknown> {
  const data = event.data as ArtifactData;
  const resourceUrl = tag !== undefined && tag !== data.digest ? `${context.registryHost}/${data.repository}:${tag}` : `${context.registryHost}/${data.repository}@${data.digest}`;
  return {
    resources: [{ digest: data.digest, ...(tag !== undefined ? { tag } : {}), resource_url: resourceUrl }],
    repository: repositoryOf(data.repository),
  };
}

const byRepository = (event: EventEnvelope) => projectOfRepository((event.data as ArtifactData).repository);

function unixSeconds(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

export const EVENT_KINDS: readonly WebhookEventKind[] = Object.freeze([
  {
    harborType: 'PUSH_ARTIFACT',
    cloudEventType: 'harbor.artifact.pushed',
    source: registryEvents.manifestPushed,
    description: 'an artifact (manifest, with its tag if any) was pushed',
    project: byRepository,
    eventData: (event, context) => artifactData(event, context, (event.data as ArtifactData).tag),
  },
  {
    harborType: 'PULL_ARTIFACT',
    cloudEventType: 'harbor.artifact.pulled',
    source: registryEvents.artifactPulled,
    description: 'an artifact was pulled (identical pulls of one batch are one event with custom_attributes.count)',
    project: byRepository,
    eventData: (event, context) => {
      const data = event.data as ArtifactData;
      const reference = data.reference ?? data.digest;
      return { ...artifactData(event, context, reference), custom_attributes: { count: String(data.count ?? 1) } };
    },
  },
  {
    harborType: 'DELETE_ARTIFACT',
    cloudEventType: 'harbor.artifact.deleted',
    source: registryEvents.manifestDeleted,
    description: 'an artifact (manifest and its tags) was deleted',
    project: byRepository,
    eventData: (event, context) => artifactData(event, context, undefined),
  },
  {
    harborType: 'DELETE_TAG',
    cloudEventType: 'harbor.tag.deleted',
    source: registryEvents.tagDeleted,
    description: 'a tag was deleted (the artifact stays)',
    project: byRepository,
    eventData: (event, context) => artifactData(event, context, (event.data as ArtifactData).tag),
  },
  {
    harborType: 'REPLICATION',
    cloudEventType: 'harbor.replication.status.changed',
    source: replicationStatusChanged,
    description: "a replication execution changed status (to the policies of the event's project)",
    project: (event) => (event.data as { project?: unknown }).project as string | undefined,
    eventData: (event, context) => {
      const data = event.data as typeof replicationStatusChanged.T & object;
      return {
        replication: {
          harbor_hostname: context.registryHost,
          job_status: data.status,
          description: data.policyName,
          trigger_type: data.trigger,
          execution_id: data.executionId,
          execution_timestamp: unixSeconds(data.startedAt),
          policy_id: data.policyId,
        },
        custom_attributes: {
          total: String(data.total ?? 0),
          succeeded: String(data.succeeded ?? 0),
          failed: String(data.failed ?? 0),
          ...(data.finishedAt ? { finished_at: String(unixSeconds(data.finishedAt) ?? '') } : {}),
        },
      };
    },
  },
  {
    harborType: 'TAG_RETENTION',
    cloudEventType: 'harbor.tag_retention.finished',
    source: retentionEvents.finished,
    description: "a tag retention run finished (real runs only: a dry run deletes nothing), to the policies of the run's project",
    project: (event) => {
      const data = event.data as { project?: string; dryRun?: boolean };
      return data.dryRun ? undefined : data.project;
    },
    eventData: (event, context) => retentionEventData(event.data as typeof retentionEvents.finished.T & object, context),
  },
  quotaKind('QUOTA_WARNING', 'harbor.quota.warned', quotaWarning, "a push brought a project's storage or artifact count to the quota's warning threshold"),
  quotaKind('QUOTA_EXCEED', 'harbor.quota.exceeded', quotaExceeded, "a push was refused because it would exceed a project's quota"),
] satisfies WebhookEventKind[]);

/** Harbor's quota `event_data`: the artifact pushed, its repository, and the message as `custom_attributes.Details`. */
function quotaKind(harborType: string, cloudEventType: string, source: typeof quotaWarning, description: string): WebhookEventKind {
  return {
    harborType,
    cloudEventType,
    source,
    description,
    project: (event) => (event.data as QuotaEventData).project,
    eventData: (event, context) => {
      const data = event.data as QuotaEventData;
      return { ...artifactData(event, context, undefined), custom_attributes: { Details: data.message } };
    },
  };
}

/** The synthetic event of `POST .../policies/{id}/test`. */
export const TEST_EVENT = Object.freeze({ harborType: 'TEST_WEBHOOK', cloudEventType: 'harbor.webhook.test' });

export const EVENT_TYPE_NAMES: readonly string[] = EVENT_KINDS.map((k) => k.harborType);

export function kindOfDurable(type: string): WebhookEventKind | undefined {
  return EVENT_KINDS.find((k) => k.source.name === type);
}
