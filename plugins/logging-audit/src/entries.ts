import {
  authEvents,
  systemEvents,
  isEventOf,
  registryEvents,
  type EventEnvelope,
  type ResourceChangedData,
} from '@wharf/sdk';

/**
 * What the audit log records, derived from the durable events: one entry per event, or two for
 * a push with a tag (the artifact push and the tag it created). Nothing here reads a secret: the
 * events carry none (login events carry the name tried, never the password).
 */

export const OPERATIONS = ['push', 'pull', 'delete', 'create', 'update', 'login', 'access'] as const;
export type AuditOperation = (typeof OPERATIONS)[number];
/** `denied`: an authorization refused the operation (`access` entries). */
export type AuditResult = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  /** The durable event the entry comes from, and which of its entries this is (0 or 1). */
  readonly eventId: string;
  readonly part: number;
  readonly time: Date;
  /** Who: the principal's subject; for a refused login, the name tried. */
  readonly actor: string | null;
  /** `user`, `robot`, `anonymous`, `system`; null when nobody was authenticated. */
  readonly actorKind: string | null;
  /** The plugin that vouched for the actor (`db`, `ldap`, `projects` for robots). */
  readonly actorProvider: string | null;
  readonly clientAddress: string | null;
  readonly operation: AuditOperation;
  /** `artifact`, `tag`, `repository`, `project`, `member`, `user`, `user-group`, `robot`, `registry`, `replication-policy`. */
  readonly resourceType: string;
  /** `lib/app@sha256:...`, `lib/app:v1`, `lib/app`, a project or user name, a robot's full name... */
  readonly resource: string;
  readonly project: string | null;
  readonly result: AuditResult;
  readonly requestId: string | null;
  /** How many identical operations the entry stands for (coalesced pulls), otherwise 1. */
  readonly count: number;
  /** What else the event said: digest, tag, media type, changed fields, where a login came in. */
  readonly detail: Readonly<Record<string, unknown>>;
}

const ACTIONS: Readonly<Record<string, AuditOperation>> = { created: 'create', updated: 'update', deleted: 'delete' };
const MAX = { actor: 255, address: 64, resource: 1024, project: 255, requestId: 64, type: 32, userAgent: 256, detail: 4096 } as const;

const cut = (value: string | undefined | null, max: number): string | null => (value === undefined || value === null ? null : value.slice(0, max));

/** The project of a repository: its first segment (`lib/app` → `lib`); none for `app`. */
export function projectOfRepository(repository: string): string | null {
  const slash = repository.indexOf('/');
  return slash > 0 ? repository.slice(0, slash) : null;
}

function bounded(detail: Record<string, unknown>): Record<string, unknown> {
  const clean = Object.fromEntries(Object.entries(detail).filter(([, v]) => v !== undefined));
  return JSON.stringify(clean).length <= MAX.detail ? clean : { truncated: true };
}

type Draft = Pick<AuditEntry, 'operation' | 'resourceType' | 'resource' | 'project'> & Partial<Pick<AuditEntry, 'result' | 'count' | 'detail'>>;

/** The entries an event becomes; none for events the audit log does not record (blob commits). */
export function entriesOf(event: EventEnvelope): AuditEntry[] {
  const drafts = draftsOf(event);
  const ua = cut(event.request?.userAgent, MAX.userAgent);
  return drafts.map((d, part) => ({
    eventId: event.id,
    part,
    time: event.occurredAt,
    // A refused login has no authenticated actor: the name tried stands in (kind and provider
    // stay empty), so filtering by actor shows someone's failed logins next to what they did.
    actor: cut(event.actor?.subject ?? (d.operation === 'login' ? d.resource : undefined), MAX.actor),
    actorKind: event.actor?.kind ?? null,
    actorProvider: cut(event.actor?.provider, MAX.type * 2),
    clientAddress: cut(event.request?.ip, MAX.address),
    operation: d.operation,
    resourceType: d.resourceType.slice(0, MAX.type),
    resource: d.resource.slice(0, MAX.resource),
    project: cut(d.project, MAX.project),
    result: d.result ?? 'success',
    requestId: cut(event.request?.requestId, MAX.requestId),
    count: d.count ?? 1,
    detail: bounded({ ...d.detail, ...(ua ? { userAgent: ua } : {}) }),
  }));
}

function draftsOf(event: EventEnvelope): Draft[] {
  if (isEventOf(registryEvents.manifestPushed, event)) {
    const { repository, digest, tag, mediaType, artifactType, size, subject } = event.data;
    const project = projectOfRepository(repository);
    const push: Draft = { operation: 'push', resourceType: 'artifact', resource: `${repository}@${digest}`, project, detail: { digest, tag, mediaType, artifactType, size, subject } };
    if (tag === undefined) return [push];
    return [push, { operation: 'create', resourceType: 'tag', resource: `${repository}:${tag}`, project, detail: { digest } }];
  }
  if (isEventOf(registryEvents.artifactPulled, event)) {
    const { repository, digest, reference, mediaType, count } = event.data;
    return [{ operation: 'pull', resourceType: 'artifact', resource: `${repository}@${digest}`, project: projectOfRepository(repository), count: count ?? 1, detail: { digest, reference, mediaType } }];
  }
  if (isEventOf(registryEvents.manifestDeleted, event)) {
    const { repository, digest } = event.data;
    return [{ operation: 'delete', resourceType: 'artifact', resource: `${repository}@${digest}`, project: projectOfRepository(repository), detail: { digest } }];
  }
  if (isEventOf(registryEvents.tagDeleted, event)) {
    const { repository, digest, tag } = event.data;
    return [{ operation: 'delete', resourceType: 'tag', resource: `${repository}:${tag ?? ''}`, project: projectOfRepository(repository), detail: { digest } }];
  }
  if (isEventOf(registryEvents.repositoryDeleted, event)) {
    const { repository } = event.data;
    return [{ operation: 'delete', resourceType: 'repository', resource: repository, project: projectOfRepository(repository) }];
  }
  if (isEventOf(authEvents.loginSucceeded, event) || isEventOf(authEvents.loginFailed, event)) {
    const { username, provider, via, reason } = event.data;
    const ok = event.type === authEvents.loginSucceeded.name;
    return [{ operation: 'login', resourceType: 'user', resource: username, project: null, result: ok ? 'success' : 'failure', detail: { via, provider, reason } }];
  }
  if (isEventOf(systemEvents.configChanged, event)) {
    // Recorded by the kernel at boot: which key paths of the effective configuration changed.
    const { changed, added, removed, truncated } = event.data;
    // At most 40 paths per list in the entry (its detail is bounded); the log line has them all.
    const cut = [changed, added, removed].some((l) => l.length > 40) || truncated;
    const detail = { changed: changed.slice(0, 40), added: added.slice(0, 40), removed: removed.slice(0, 40), ...(cut ? { truncated: true } : {}) };
    return [{ operation: 'update', resourceType: 'configuration', resource: 'configuration', project: null, detail }];
  }
  if (isEventOf(authEvents.accessDenied, event)) {
    // Refused access, already aggregated by the kernel: `count` refusals of one operation.
    const { operation, resource, status, via, reason, count, aggregated } = event.data;
    const repository = via === 'api' ? undefined : resource;
    return [{
      operation: 'access',
      resourceType: repository === undefined ? 'api' : 'repository',
      resource,
      project: repository === undefined ? null : projectOfRepository(repository),
      result: 'denied',
      count,
      detail: { request: operation, status, via, reason, ...(aggregated ? { aggregated } : {}) },
    }];
  }
  const management = /^management\.([a-z][a-z0-9-]*)\.(created|updated|deleted)$/.exec(event.type);
  if (management) {
    const data = event.data as ResourceChangedData;
    const resourceType = data.resource ?? management[1]!;
    const project = data.project ?? (resourceType === 'project' ? data.id : null);
    return [{ operation: ACTIONS[management[2]!]!, resourceType, resource: String(data.id), project, detail: { changes: data.changes } }];
  }
  return [];
}
