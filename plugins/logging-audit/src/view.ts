import { Type } from '@wharf/sdk';
import type { AuditEntry } from './entries.js';
import type { StoredEntry } from './store.js';

/** An entry as the API, the exports and the forwarded log records show it. */

export const AuditEntrySchema = Type.Object(
  {
    id: Type.Optional(Type.Integer({ description: 'Position in the log (absent on forwarded entries that are not stored).' })),
    eventId: Type.String({ description: 'The durable event the entry comes from.' }),
    time: Type.String({ format: 'date-time' }),
    actor: Type.Union([Type.String(), Type.Null()], { description: 'Who: a user or robot name; for a refused login, the name tried.' }),
    actorKind: Type.Union([Type.String(), Type.Null()], { description: '`user`, `robot`, `anonymous`, `system`; null when nobody was authenticated.' }),
    actorProvider: Type.Union([Type.String(), Type.Null()], { description: 'The plugin that vouched for the actor (`db`, `ldap`, `projects`).' }),
    clientAddress: Type.Union([Type.String(), Type.Null()]),
    operation: Type.String({ description: 'push, pull, delete, create, update, login, access (refused access, result denied)' }),
    resourceType: Type.String({ description: 'artifact, tag, repository, project, member, user, user-group, robot, registry, replication-policy' }),
    resource: Type.String(),
    project: Type.Union([Type.String(), Type.Null()]),
    result: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
    requestId: Type.Union([Type.String(), Type.Null()]),
    count: Type.Integer({ minimum: 1, description: 'Identical operations the entry stands for (coalesced pulls).' }),
    detail: Type.Record(Type.String(), Type.Unknown(), { description: 'Digest, tag, media type, changed fields, login channel...' }),
  },
  { $id: 'AuditEntry', additionalProperties: false },
);

export type AuditEntryView = {
  id?: number;
  eventId: string;
  time: string;
  actor: string | null;
  actorKind: string | null;
  actorProvider: string | null;
  clientAddress: string | null;
  operation: string;
  resourceType: string;
  resource: string;
  project: string | null;
  result: 'success' | 'failure' | 'denied';
  requestId: string | null;
  count: number;
  detail: Record<string, unknown>;
};

export function viewOf(entry: AuditEntry | StoredEntry): AuditEntryView {
  return {
    ...('id' in entry ? { id: entry.id } : {}),
    eventId: entry.eventId,
    time: entry.time.toISOString(),
    actor: entry.actor,
    actorKind: entry.actorKind,
    actorProvider: entry.actorProvider,
    clientAddress: entry.clientAddress,
    operation: entry.operation,
    resourceType: entry.resourceType,
    resource: entry.resource,
    project: entry.project,
    result: entry.result,
    requestId: entry.requestId,
    count: entry.count,
    detail: { ...entry.detail },
  };
}

/** The columns of the CSV export, in order. */
export const CSV_COLUMNS = ['id', 'time', 'actor', 'actorKind', 'actorProvider', 'clientAddress', 'operation', 'resourceType', 'resource', 'project', 'result', 'requestId', 'count', 'eventId', 'detail'] as const;
