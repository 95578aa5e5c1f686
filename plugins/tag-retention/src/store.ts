import type { Knex } from '@wharf/sdk';
import { TABLES } from './migrations.js';
import type { Decision, Execution, ExecutionStatus, ExecutionTrigger, Outcome, RetentionPolicy, RetentionRule, Task, TaskStatus } from './model.js';

/**
 * The retention tables through knex, on SQLite, PostgreSQL and MySQL. Rows are decoded with
 * checks (PostgreSQL returns BIGINT as strings, MySQL booleans as 0/1). `using(trx)` binds the
 * store to a transaction, so a status change and the event describing it commit together.
 */

type Row = Record<string, unknown>;

const num = (v: unknown, column: string): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new TypeError(`retention store: column ${column} holds ${String(v)}, not a number`);
  return n;
};
const optNum = (v: unknown, column: string): number | undefined => (v === null || v === undefined ? undefined : num(v, column));
const date = (v: unknown, column: string): Date => new Date(num(v, column));
const optDate = (v: unknown, column: string): Date | undefined => (v === null || v === undefined ? undefined : date(v, column));
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

function execution(r: Row): Execution {
  return {
    id: num(r.id, 'id'), project: String(r.project), trigger: String(r.trigger) as ExecutionTrigger, dryRun: Boolean(Number(r.dry_run)),
    status: String(r.status) as ExecutionStatus, statusText: String(r.status_text ?? ''), rules: JSON.parse(String(r.rules)) as RetentionRule[],
    total: num(r.total, 'total'), retained: num(r.retained, 'retained'), deleted: num(r.deleted, 'deleted'),
    startedAt: date(r.started_at, 'started_at'), finishedAt: optDate(r.finished_at, 'finished_at'), startedBy: optStr(r.started_by),
  };
}

function task(r: Row): Task {
  return {
    id: num(r.id, 'id'), executionId: num(r.execution_id, 'execution_id'), repository: String(r.repository), status: String(r.status) as TaskStatus,
    total: num(r.total, 'total'), retained: num(r.retained, 'retained'), deleted: num(r.deleted, 'deleted'), error: optStr(r.error),
    startedAt: date(r.started_at, 'started_at'), finishedAt: optDate(r.finished_at, 'finished_at'),
  };
}

export interface Counts {
  readonly total: number;
  readonly retained: number;
  readonly deleted: number;
}

export class RetentionStore {
  constructor(private readonly knex: Knex | Knex.Transaction) {}

  using(trx: Knex.Transaction): RetentionStore {
    return new RetentionStore(trx);
  }

  // Policies

  async getPolicy(project: string): Promise<RetentionPolicy | undefined> {
    const r = (await this.knex(TABLES.policies).where({ project }).first()) as Row | undefined;
    if (!r) return undefined;
    return { project: String(r.project), rules: JSON.parse(String(r.rules)) as RetentionRule[], cron: optStr(r.cron), updatedAt: date(r.updated_at, 'updated_at'), updatedBy: optStr(r.updated_by) };
  }

  /** Creates or replaces a project's policy. */
  async putPolicy(project: string, rules: readonly RetentionRule[], cron: string | undefined, by: string | undefined): Promise<RetentionPolicy> {
    const row = { rules: JSON.stringify(rules), cron: cron ?? null, updated_by: by ?? null, updated_at: Date.now() };
    const updated = await this.knex(TABLES.policies).where({ project }).update(row);
    if (updated === 0) await this.knex(TABLES.policies).insert({ project, ...row });
    return (await this.getPolicy(project))!;
  }

  async deletePolicy(project: string): Promise<boolean> {
    return (await this.knex(TABLES.policies).where({ project }).delete()) > 0;
  }

  async scheduledPolicies(): Promise<RetentionPolicy[]> {
    const rows = (await this.knex(TABLES.policies).whereNotNull('cron').select('project')) as Row[];
    const out: RetentionPolicy[] = [];
    for (const r of rows) {
      const p = await this.getPolicy(String(r.project));
      if (p) out.push(p);
    }
    return out;
  }

  // Executions

  async createExecution(input: { project: string; trigger: ExecutionTrigger; dryRun: boolean; rules: readonly RetentionRule[]; startedBy: string | undefined }): Promise<Execution> {
    const row = {
      project: input.project, trigger: input.trigger, dry_run: input.dryRun, status: 'pending', status_text: 'queued',
      rules: JSON.stringify(input.rules), started_by: input.startedBy ?? null, started_at: Date.now(),
    };
    const [inserted] = await this.knex(TABLES.executions).insert(row, ['id']);
    const id = num(typeof inserted === 'object' && inserted !== null ? (inserted as Row).id : inserted, 'id');
    return (await this.getExecution(id))!;
  }

  async getExecution(id: number): Promise<Execution | undefined> {
    const r = (await this.knex(TABLES.executions).where({ id }).first()) as Row | undefined;
    return r ? execution(r) : undefined;
  }

  /** The project's pending, running or stopping execution, if any. */
  async activeExecution(project: string): Promise<Execution | undefined> {
    const r = (await this.knex(TABLES.executions).where({ project }).whereIn('status', ['pending', 'running', 'stopping']).orderBy('id').first()) as Row | undefined;
    return r ? execution(r) : undefined;
  }

  /** A project's executions, newest first: one numbered page and the total. */
  async listExecutions(project: string, page: { page: number; pageSize: number }): Promise<{ items: Execution[]; total: number }> {
    const [{ n }] = (await this.knex(TABLES.executions).where({ project }).count({ n: '*' })) as [{ n: unknown }];
    const rows = (await this.knex(TABLES.executions).where({ project }).orderBy('id', 'desc').limit(page.pageSize).offset((page.page - 1) * page.pageSize)) as Row[];
    return { items: rows.map(execution), total: num(n, 'count') };
  }

  /** Moves an execution on when it is in one of `from`; false when it was not. */
  async transition(id: number, to: ExecutionStatus, from: readonly ExecutionStatus[], statusText?: string): Promise<boolean> {
    const final = ['succeeded', 'failed', 'stopped'].includes(to);
    const changed = await this.knex(TABLES.executions)
      .where({ id })
      .whereIn('status', from as ExecutionStatus[])
      .update({ status: to, ...(statusText !== undefined ? { status_text: statusText } : {}), ...(final ? { finished_at: Date.now() } : {}) });
    return changed > 0;
  }

  async setExecutionCounts(id: number, counts: Counts): Promise<void> {
    await this.knex(TABLES.executions).where({ id }).update({ total: counts.total, retained: counts.retained, deleted: counts.deleted });
  }

  /** Deletes the oldest finished executions of a project beyond `keep`, with their tasks and decisions. */
  async pruneExecutions(project: string, keep: number): Promise<number> {
    const old = ((await this.knex(TABLES.executions).where({ project }).whereIn('status', ['succeeded', 'failed', 'stopped']).orderBy('id', 'desc').offset(keep).limit(1000).select('id')) as Row[]).map((r) => num(r.id, 'id'));
    if (old.length === 0) return 0;
    const tasks = this.knex(TABLES.tasks).whereIn('execution_id', old).select('id');
    await this.knex(TABLES.decisions).whereIn('task_id', tasks).delete();
    await this.knex(TABLES.tasks).whereIn('execution_id', old).delete();
    return this.knex(TABLES.executions).whereIn('id', old).delete();
  }

  // Tasks

  /** The execution's task for a repository, made if missing (a job run twice finds the first). */
  async openTask(executionId: number, repository: string): Promise<Task> {
    const existing = (await this.knex(TABLES.tasks).where({ execution_id: executionId, repository }).first()) as Row | undefined;
    if (existing) return task(existing);
    await this.knex(TABLES.tasks).insert({ execution_id: executionId, repository, status: 'running', started_at: Date.now() });
    return task((await this.knex(TABLES.tasks).where({ execution_id: executionId, repository }).first()) as Row);
  }

  async finishTask(id: number, status: TaskStatus, counts: Counts, error?: string): Promise<void> {
    await this.knex(TABLES.tasks).where({ id }).update({ status, ...counts, error: error?.slice(0, 2048) ?? null, finished_at: Date.now() });
  }

  /** Forgets a task's decisions (a task run again after a crash starts over). */
  async clearDecisions(taskId: number): Promise<void> {
    await this.knex(TABLES.decisions).where({ task_id: taskId }).delete();
  }

  async getTask(executionId: number, taskId: number): Promise<Task | undefined> {
    const r = (await this.knex(TABLES.tasks).where({ id: taskId, execution_id: executionId }).first()) as Row | undefined;
    return r ? task(r) : undefined;
  }

  async listTasks(executionId: number, page: { page: number; pageSize: number }): Promise<{ items: Task[]; total: number }> {
    const [{ n }] = (await this.knex(TABLES.tasks).where({ execution_id: executionId }).count({ n: '*' })) as [{ n: unknown }];
    const rows = (await this.knex(TABLES.tasks).where({ execution_id: executionId }).orderBy('id').limit(page.pageSize).offset((page.page - 1) * page.pageSize)) as Row[];
    return { items: rows.map(task), total: num(n, 'count') };
  }

  /** Sums of an execution's tasks. */
  async executionCounts(executionId: number): Promise<Counts> {
    const [r] = (await this.knex(TABLES.tasks).where({ execution_id: executionId }).sum({ total: 'total', retained: 'retained', deleted: 'deleted' })) as Row[];
    return { total: optNum(r?.total, 'total') ?? 0, retained: optNum(r?.retained, 'retained') ?? 0, deleted: optNum(r?.deleted, 'deleted') ?? 0 };
  }

  async failedTasks(executionId: number): Promise<number> {
    const [{ n }] = (await this.knex(TABLES.tasks).where({ execution_id: executionId, status: 'failed' }).count({ n: '*' })) as [{ n: unknown }];
    return num(n, 'count');
  }

  // Decisions

  async addDecision(taskId: number, d: Decision): Promise<void> {
    await this.addDecisions(taskId, [d]);
  }

  /** Several decisions, in inserts of at most 200 rows (the retained artifacts of a task at once). */
  async addDecisions(taskId: number, decisions: readonly Decision[]): Promise<void> {
    const at = Date.now();
    const rows = decisions.map((d) => ({ task_id: taskId, digest: d.digest, tags: JSON.stringify(d.tags).slice(0, 4096), outcome: d.outcome, reason: d.reason.slice(0, 2048), at }));
    for (let i = 0; i < rows.length; i += 200) await this.knex(TABLES.decisions).insert(rows.slice(i, i + 200));
  }

  async decisions(taskId: number): Promise<(Decision & { at: Date })[]> {
    const rows = (await this.knex(TABLES.decisions).where({ task_id: taskId }).orderBy('id')) as Row[];
    return rows.map((r) => ({ digest: String(r.digest) as Decision['digest'], tags: JSON.parse(String(r.tags)) as string[], outcome: String(r.outcome) as Outcome, reason: String(r.reason), at: date(r.at, 'at') }));
  }

  /** Deleted (or would-be deleted) artifacts of an execution, at most `limit`. */
  async deletedArtifacts(executionId: number, limit: number): Promise<{ repository: string; digest: string; tags: string[] }[]> {
    const rows = (await this.knex(TABLES.decisions)
      .join(TABLES.tasks, `${TABLES.tasks}.id`, `${TABLES.decisions}.task_id`)
      .where(`${TABLES.tasks}.execution_id`, executionId)
      .whereIn(`${TABLES.decisions}.outcome`, ['deleted', 'would-delete'])
      .orderBy(`${TABLES.decisions}.id`)
      .limit(limit)
      .select(`${TABLES.tasks}.repository`, `${TABLES.decisions}.digest`, `${TABLES.decisions}.tags`)) as Row[];
    return rows.map((r) => ({ repository: String(r.repository), digest: String(r.digest), tags: JSON.parse(String(r.tags)) as string[] }));
  }
}
