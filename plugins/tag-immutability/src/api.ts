import {
  ApiError,
  RepositorySelectorListSchema,
  TagSelectorListSchema,
  Type,
  eventContextOf,
  managementEvent,
  type ApiAction,
  type ApiRequest,
  type EventService,
  type ManagementApi,
} from '@wharf/sdk';
import type { ImmutableTagRule } from './rule-store.js';
import { RuleLimitError } from './rule-store.js';
import type { TagImmutabilityService } from './services.js';

/**
 * `/projects/{project_name}/immutable-tag-rules`: list, create, read, replace, enable or disable
 * (PATCH), delete. Access is the project's `immutable-tag` resource (Project Admins and
 * Maintainers, as in Harbor); every change records a durable audit event.
 */

const BASE = '/projects/{project_name}/immutable-tag-rules';
const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }) });
const RuleParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }), rule_id: Type.Integer({ minimum: 1 }) });

const Priority = Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Lower first; ties in id order. Orders the list and which rule a refusal names.' });
const RuleBody = Type.Object(
  {
    priority: Type.Optional({ ...Priority, default: 0 }),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    repositories: { ...RepositorySelectorListSchema, description: 'Repository selectors, matched against the name within the project (`app/web` for `team/app/web`).' },
    tags: { ...TagSelectorListSchema, description: 'Tag selectors.' },
  },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  { enabled: Type.Optional(Type.Boolean()), priority: Type.Optional(Priority) },
  { additionalProperties: false, description: 'Enable or disable a rule, or move it.' },
);
const RuleView = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  priority: Type.Integer(),
  enabled: Type.Boolean(),
  repositories: RepositorySelectorListSchema,
  tags: TagSelectorListSchema,
  creator: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

type Req = ApiRequest<unknown, unknown, unknown>;
const projectOf = (req: Req) => String((req.params as Record<string, unknown>)['project_name']);
const ruleIdOf = (req: Req) => Number((req.params as Record<string, unknown>)['rule_id']);
const access = (req: Req, action: ApiAction) => ({ resource: { type: 'project' as const, name: projectOf(req), resource: 'immutable-tag' }, action });

export function ruleView(rule: ImmutableTagRule) {
  return {
    id: rule.id,
    project: rule.project,
    priority: rule.priority,
    enabled: rule.enabled,
    repositories: [...rule.repositories],
    tags: [...rule.tags],
    creator: rule.creator,
    createdAt: new Date(rule.createdAt).toISOString(),
    updatedAt: new Date(rule.updatedAt).toISOString(),
  };
}

const ruleEvents = {
  created: managementEvent('immutable-tag-rule', 'created'),
  updated: managementEvent('immutable-tag-rule', 'updated'),
  deleted: managementEvent('immutable-tag-rule', 'deleted'),
};

export function registerImmutabilityApi(api: ManagementApi, deps: { rules: TagImmutabilityService; events: EventService }): void {
  const { rules, events } = deps;
  const tag = 'tag-immutability';
  const record = (req: Req, type: typeof ruleEvents.created, rule: ImmutableTagRule) =>
    events.publish({
      type,
      partition: `project:${rule.project}`,
      data: { resource: 'immutable-tag-rule', id: String(rule.id), project: rule.project },
      ...eventContextOf(req.principal, req.request),
    });
  const notFound = (req: Req) => new ApiError('NOT_FOUND', `immutability rule ${ruleIdOf(req)} not found in project ${projectOf(req)}`);
  const limited = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (err) {
      if (err instanceof RuleLimitError) throw new ApiError('CONFLICT', `project already holds ${err.limit} immutability rules, the most allowed (extensions.tag-immutability.maxRulesPerProject)`);
      throw err;
    }
  };

  api.operation({
    operationId: 'listImmutableTagRules',
    method: 'GET',
    path: BASE,
    tag,
    summary: "List a project's tag immutability rules",
    description: 'In priority order. A tag is immutable when an enabled rule selects both its repository and the tag.',
    list: true,
    params: ProjectParams,
    response: RuleView,
    async handler(req) {
      await req.authorize(access(req, 'list'));
      const all = await rules.list(projectOf(req));
      const start = (req.page.page - 1) * req.page.pageSize;
      return { items: all.slice(start, start + req.page.pageSize).map(ruleView), total: all.length };
    },
  });

  api.operation({
    operationId: 'createImmutableTagRule',
    method: 'POST',
    path: BASE,
    tag,
    summary: 'Create a tag immutability rule',
    description: 'Patterns are checked here: a bad glob or regular expression, or one that could backtrack for too long, is a 400 naming the selector. 409 past `maxRulesPerProject`.',
    params: ProjectParams,
    body: RuleBody,
    response: RuleView,
    status: 201,
    async handler(req) {
      await req.authorize(access(req, 'create'));
      const body = req.body;
      const created = await limited(() =>
        rules.create(projectOf(req), { priority: body.priority ?? 0, enabled: body.enabled ?? true, repositories: body.repositories, tags: body.tags }, req.principal.subject, (r) => record(req, ruleEvents.created, r)),
      );
      req.setHeader('Location', `/api/v1/projects/${encodeURIComponent(created.project)}/immutable-tag-rules/${created.id}`);
      req.logger.info({ project: created.project, rule: created.id, by: req.principal.subject }, 'immutability rule created');
      return ruleView(created);
    },
  });

  api.operation({
    operationId: 'getImmutableTagRule',
    method: 'GET',
    path: `${BASE}/{rule_id}`,
    tag,
    summary: 'Get a tag immutability rule',
    params: RuleParams,
    response: RuleView,
    async handler(req) {
      await req.authorize(access(req, 'read'));
      const rule = await rules.get(projectOf(req), ruleIdOf(req));
      if (!rule) throw notFound(req);
      return ruleView(rule);
    },
  });

  api.operation({
    operationId: 'updateImmutableTagRule',
    method: 'PUT',
    path: `${BASE}/{rule_id}`,
    tag,
    summary: 'Replace a tag immutability rule',
    params: RuleParams,
    body: RuleBody,
    response: RuleView,
    async handler(req) {
      await req.authorize(access(req, 'update'));
      const body = req.body;
      const updated = await rules.update(
        projectOf(req),
        ruleIdOf(req),
        { priority: body.priority ?? 0, enabled: body.enabled ?? true, repositories: body.repositories, tags: body.tags },
        (r) => record(req, ruleEvents.updated, r),
      );
      if (!updated) throw notFound(req);
      return ruleView(updated);
    },
  });

  api.operation({
    operationId: 'patchImmutableTagRule',
    method: 'PATCH',
    path: `${BASE}/{rule_id}`,
    tag,
    summary: 'Enable or disable a tag immutability rule, or change its priority',
    params: RuleParams,
    body: PatchBody,
    response: RuleView,
    async handler(req) {
      await req.authorize(access(req, 'update'));
      const body = req.body;
      if (body.enabled === undefined && body.priority === undefined) throw new ApiError('BAD_REQUEST', 'say what to change: enabled, priority or both');
      const updated = await rules.update(projectOf(req), ruleIdOf(req), {
        ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
        ...(body.priority === undefined ? {} : { priority: body.priority }),
      }, (r) => record(req, ruleEvents.updated, r));
      if (!updated) throw notFound(req);
      return ruleView(updated);
    },
  });

  api.operation({
    operationId: 'deleteImmutableTagRule',
    method: 'DELETE',
    path: `${BASE}/{rule_id}`,
    tag,
    summary: 'Delete a tag immutability rule',
    params: RuleParams,
    async handler(req) {
      await req.authorize(access(req, 'delete'));
      const removed = await rules.remove(projectOf(req), ruleIdOf(req), (r) => record(req, ruleEvents.deleted, r));
      if (!removed) throw notFound(req);
      return undefined;
    },
  });
}
