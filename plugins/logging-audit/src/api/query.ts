import { ApiError, Type } from '@wharf/sdk';
import { OPERATIONS } from '../entries.js';
import type { AuditFilter, Cursor } from '../store.js';

/** The query parameters of the audit log operations, and turning them into a store filter. */

const text = (maxLength: number, description: string) => Type.Optional(Type.String({ minLength: 1, maxLength, description }));

const filterProperties = {
  operation: Type.Optional(Type.Union(OPERATIONS.map((o) => Type.Literal(o)), { description: `One of ${OPERATIONS.join(', ')}.` })),
  resource_type: text(32, '`artifact`, `tag`, `repository`, `project`, `member`, `user`, `user-group`, `robot`, `registry`, `replication-policy`.'),
  resource: text(1024, 'Entries whose resource starts with this: `lib/app` finds `lib/app@sha256:...` and `lib/app:v1`.'),
  actor: text(255, 'Exactly this user or robot (for refused logins, the name tried).'),
  result: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
  from: text(40, 'From this time on (inclusive), RFC 3339: `2026-12-01T00:00:00Z`.'),
  to: text(40, 'Before this time (exclusive), RFC 3339.'),
};

const pageProperties = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Entries per page, 1 to 100.' })),
  cursor: text(100, 'Where to go on: the `next` of the previous page.'),
};

const format = Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv', description: '`csv` (RFC 4180, a header row; cells that a spreadsheet would run as formulas are prefixed with `\'`) or `json` (one array).' }));
const project = text(255, 'Exactly this project.');

export const SystemListQuery = Type.Object({ ...filterProperties, project, ...pageProperties }, { additionalProperties: false });
export const ProjectListQuery = Type.Object({ ...filterProperties, ...pageProperties }, { additionalProperties: false });
export const SystemExportQuery = Type.Object({ ...filterProperties, project, format }, { additionalProperties: false });
export const ProjectExportQuery = Type.Object({ ...filterProperties, format }, { additionalProperties: false });

export interface FilterQuery {
  operation?: string | undefined;
  resource_type?: string | undefined;
  resource?: string | undefined;
  actor?: string | undefined;
  project?: string | undefined;
  result?: 'success' | 'failure' | 'denied' | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?$/;

function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = RFC3339.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new ApiError('BAD_REQUEST', `invalid query parameter: /${name}: must be an RFC 3339 time such as 2026-12-01T00:00:00Z`);
  return ms;
}

export function filterOf(query: FilterQuery, project?: string): AuditFilter {
  const from = time('from', query.from);
  const to = time('to', query.to);
  if (from !== undefined && to !== undefined && from >= to) throw new ApiError('BAD_REQUEST', 'invalid query parameter: /from: must be before /to');
  return {
    operation: query.operation,
    resourceType: query.resource_type,
    resource: query.resource,
    actor: query.actor,
    project: project ?? query.project,
    result: query.result,
    from,
    to,
  };
}

/** Cursors are opaque to clients: base64url of `<time>.<id>`. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.time}.${cursor.id}`).toString('base64url');
}

export function decodeCursor(value: string | undefined): Cursor | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!m || !/^[A-Za-z0-9_-]+$/.test(value)) throw new ApiError('BAD_REQUEST', 'invalid query parameter: /cursor: not a cursor this API gave out');
  return { time: Number(m[1]), id: Number(m[2]) };
}
