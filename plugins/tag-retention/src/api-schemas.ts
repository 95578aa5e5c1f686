import { RepositorySelectorSchema, SELECTOR_LIST_MAX_ITEMS, TagSelectorSchema, Type } from '@wharf/sdk';

/** Schemas of the retention API (`/api/v1/projects/{project_name}/retention...`). */

export const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }) });
export const ExecutionParams = Type.Object({ ...ProjectParams.properties, execution_id: Type.Integer({ minimum: 1 }) });
export const TaskParams = Type.Object({ ...ExecutionParams.properties, task_id: Type.Integer({ minimum: 1 }) });

const Template = Type.Union(
  [Type.Literal('latestPushedK'), Type.Literal('latestPulledN'), Type.Literal('nDaysSinceLastPush'), Type.Literal('nDaysSinceLastPull'), Type.Literal('always')],
  { description: 'Harbor\'s templates: retain the K most recently pushed, the N most recently pulled, those pushed or pulled within N days, or always' },
);

export const RuleSchema = Type.Object(
  {
    template: Template,
    value: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000, description: 'K, N or the number of days; not for `always`' })),
    repositories: Type.Array(RepositorySelectorSchema, { maxItems: SELECTOR_LIST_MAX_ITEMS, description: 'repository names inside the project (`app`, `team/**`): one `repoMatches` must match (when there is one), no `repoExcludes` may' }),
    tags: Type.Array(TagSelectorSchema, { maxItems: SELECTOR_LIST_MAX_ITEMS, description: 'tags (`v*`, `{latest,stable}`): one `matches` must match one of the artifact\'s tags (when there is one), no `excludes` may' }),
    untagged: Type.Optional(Type.Boolean({ description: 'untagged artifacts are candidates of this rule too (default false)' })),
    disabled: Type.Optional(Type.Boolean({ description: 'a disabled rule neither covers repositories nor keeps anything (default false)' })),
  },
  { additionalProperties: false },
);

export const PolicyBody = Type.Object(
  {
    rules: Type.Array(RuleSchema, { maxItems: 100, description: 'OR-ed: an artifact is kept when any rule keeps it' }),
    cron: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], { description: 'schedule (5 fields, or 6 with seconds first, UTC); null or absent: on demand only' })),
  },
  { additionalProperties: false },
);

export const PolicySchema = Type.Object({
  project: Type.String(),
  rules: Type.Array(RuleSchema),
  cron: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
});

export const RunBody = Type.Object(
  { dryRun: Type.Optional(Type.Boolean({ description: 'decide and log what would be deleted, delete nothing (default false)' })) },
  { additionalProperties: false },
);

const Counts = {
  total: Type.Integer({ description: 'artifacts evaluated in the repositories the rules cover' }),
  retained: Type.Integer({ description: 'kept by a rule, with their index or subject, or protected by a policy gate' }),
  deleted: Type.Integer({ description: 'deleted (a dry run: would be deleted)' }),
};

export const ExecutionSchema = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  trigger: Type.Union([Type.Literal('manual'), Type.Literal('scheduled')]),
  dryRun: Type.Boolean(),
  status: Type.Union(['pending', 'running', 'stopping', 'succeeded', 'failed', 'stopped'].map((s) => Type.Literal(s))),
  statusText: Type.String(),
  ...Counts,
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  startedBy: Type.Union([Type.String(), Type.Null()]),
});

export const TaskSchema = Type.Object({
  id: Type.Integer(),
  executionId: Type.Integer(),
  repository: Type.String(),
  status: Type.Union(['running', 'succeeded', 'failed', 'stopped'].map((s) => Type.Literal(s))),
  ...Counts,
  error: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
