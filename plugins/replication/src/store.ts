import type { DatabaseService, Knex, ReplicationCredentials, ReplicationStatus } from '@wharf/sdk';
import { column, orderBySort, type ApiSortKey } from '@wharf/sdk';
import { compileSourceFilters } from './filters.js';
import type { SecretService as SecretBox } from '@wharf/sdk';
import type {
  Endpoint,
  EndpointInput,
  Execution,
  ExecutionEvent,
  ExecutionTrigger,
  Flatten,
  PlannedTask,
  Policy,
  PolicyInput,
  Task,
  TaskCounts,
} from './model.js';

const { bigint, bool, json, oneOf, optionalBigint, optionalString, string } = column;

/**
 * Rows of the replication tables (migrations.ts) and the model. Everything the engine knows
 * lives here, so any node can continue any execution.
 */

// Bound into every ciphertext: a sealed endpoint secret cannot be replayed as another kind of secret.
const SECRET_CONTEXT = 'replication.endpoint.secret';

/** A name that is already taken (endpoint or policy). */
/** A numbered page and, from the API's `sort=`, its order (default: by id). */
export interface ListPage {
  readonly page: number;
  readonly pageSize: number;
  readonly sort?: readonly ApiSortKey[] | undefined;
}

/** What each list sorts by (API field to column); ties break on `id`. */
export const LIST_SORTS = Object.freeze({
  registries: { id: 'id', name: 'name', type: 'type', url: 'url', createdAt: 'created_at', updatedAt: 'updated_at' },
  policies: { id: 'id', name: 'name', mode: 'mode', trigger: 'trigger', enabled: 'enabled', createdAt: 'created_at', updatedAt: 'updated_at' },
  executions: { id: 'id', policyId: 'policy_id', trigger: 'trigger', status: 'status', startedAt: 'started_at' },
  // source and destination: by repository (the reference breaks no ties; the id does).
  tasks: { id: 'id', source: 'source_repository', destination: 'destination_repository', status: 'status', bytes: 'bytes', attempts: 'attempts' },
} satisfies Record<string, Record<string, string>>);

export class DuplicateNameError extends Error {}

/** An endpoint still used by policies. */
export class EndpointInUseError extends Error {}

/**
 * Another plugin's use of registry endpoints (a proxy-cache project's upstreams): names what
 * uses the endpoint, e.g. `proxy-cache project hub`, or `undefined` when nothing does.
 */
export type EndpointUse = (endpointId: number) => Promise<string | undefined>;

type Row = Record<string, unknown>;

// Rows are decoded with checks (decode.ts): a value the schema cannot hold
// fails naming its column instead of flowing on as a wrong type.
const date = (r: Row, column: string): Date => new Date(bigint(r, column));
const optDate = (r: Row, column: string): Date | undefined => {
  const ms = optionalBigint(r, column);
  return ms === undefined ? undefined : new Date(ms);
};
/** Optional text where '' also means "not set" (what the API stores for an omitted value). */
const optText = (r: Row, column: string): string | undefined => optionalString(r, column) || undefined;

const MODES = ['push', 'pull'] as const;
const TRIGGERS = ['manual', 'scheduled', 'event'] as const;
const STATUSES = ['pending', 'running', 'stopping', 'succeeded', 'failed', 'stopped', 'skipped'] as const satisfies readonly ReplicationStatus[];
const OPERATIONS = ['copy', 'delete'] as const;

function endpointOf(r: Row): Endpoint {
  return {
    id: bigint(r, 'id'), name: string(r, 'name'), description: string(r, 'description'), type: string(r, 'type'),
    url: string(r, 'url'), username: optText(r, 'username'), hasSecret: optionalString(r, 'secret') !== undefined,
    insecure: bool(r, 'insecure'), caCertificate: optText(r, 'ca_certificate'),
    createdAt: date(r, 'created_at'), updatedAt: date(r, 'updated_at'),
  };
}

function flattenOf(r: Row): Flatten {
  const s = string(r, 'flatten');
  if (s === 'none' || s === 'all') return s;
  if (s === '1' || s === '2' || s === '3') return Number(s) as 1 | 2 | 3;
  throw new TypeError(`database column "flatten": "${s.slice(0, 20)}" is not none, all, 1, 2 or 3`);
}

/** Filters were validated when the policy was saved; a row that no longer compiles fails here. */
function filtersOf(r: Row): Policy['filters'] {
  const value = json(r, 'filters') as Policy['filters'];
  const compiled = compileSourceFilters(value);
  if (!compiled.ok) throw new TypeError(`database column "filters": ${compiled.errors.join('; ')}`);
  return value;
}

function policyOf(r: Row): Policy {
  return {
    id: bigint(r, 'id'), name: string(r, 'name'), description: string(r, 'description'),
    mode: oneOf(r, 'mode', MODES), endpointId: bigint(r, 'endpoint_id'), filters: filtersOf(r),
    destinationNamespace: optText(r, 'destination_namespace'), flatten: flattenOf(r),
    trigger: oneOf(r, 'trigger', TRIGGERS), cron: optText(r, 'cron'),
    replicateDeletion: bool(r, 'replicate_deletion'), override: bool(r, 'override'),
    bandwidthKbps: bigint(r, 'bandwidth_kbps'), chunkSize: optionalBigint(r, 'chunk_size'),
    enabled: bool(r, 'enabled'), createdBy: optText(r, 'created_by'), createdAt: date(r, 'created_at'), updatedAt: date(r, 'updated_at'),
  };
}

function policyRow(p: PolicyInput): Row {
  return {
    name: p.name, description: p.description, mode: p.mode, endpoint_id: p.endpointId, filters: JSON.stringify(p.filters),
    destination_namespace: p.destinationNamespace ?? null, flatten: String(p.flatten), trigger: p.trigger, cron: p.cron ?? null,
    replicate_deletion: p.replicateDeletion, override: p.override, bandwidth_kbps: p.bandwidthKbps,
    chunk_size: p.chunkSize ?? null, enabled: p.enabled,
  };
}

function taskOf(r: Row): Task {
  return {
    id: bigint(r, 'id'), executionId: bigint(r, 'execution_id'), operation: oneOf(r, 'operation', OPERATIONS),
    sourceRepository: string(r, 'source_repository'), sourceReference: string(r, 'source_reference'),
    destinationRepository: string(r, 'destination_repository'), destinationReference: string(r, 'destination_reference'),
    status: oneOf(r, 'status', STATUSES), attempts: bigint(r, 'attempts'), bytes: bigint(r, 'bytes'),
    digest: optText(r, 'digest'), error: optText(r, 'error'), startedAt: optDate(r, 'started_at'), finishedAt: optDate(r, 'finished_at'),
  };
}

/** The one artifact an event-triggered execution is about. */
function executionEventOf(r: Row): ExecutionEvent | undefined {
  if (optionalString(r, 'event') === undefined) return undefined;
  const value = json(r, 'event') as Record<string, unknown>;
  const { operation, repository, reference } = value ?? {};
  if ((operation !== 'copy' && operation !== 'delete') || typeof repository !== 'string' || typeof reference !== 'string') {
    throw new TypeError('database column "event": not an { operation, repository, reference } object');
  }
  return { operation, repository, reference };
}

const EMPTY_COUNTS: TaskCounts = { total: 0, pending: 0, running: 0, succeeded: 0, failed: 0, stopped: 0, skipped: 0 };

export class ReplicationStore {
  constructor(
    private readonly knex: Knex,
    private readonly box: SecretBox,
    /** The dialect and the unique-violation check of the database (`coreServices.database`). */
    private readonly db: Pick<DatabaseService, 'dialect' | 'isUniqueViolation'>,
  ) {}

  readonly #endpointUses: EndpointUse[] = [];

  /** Lets another plugin refuse the deletion of endpoints it uses, as a replication policy does. */
  addEndpointUse(use: EndpointUse): void {
    this.#endpointUses.push(use);
  }

  /**
   * Throws {@link EndpointInUseError} when another plugin uses the endpoint. Asked before the
   * delete's transaction (the uses read their own tables); a use that appears in between finds
   * its endpoint gone, which the proxy cache reports as an unusable upstream.
   */
  async refuseIfUsedElsewhere(id: number): Promise<void> {
    for (const use of this.#endpointUses) {
      const user = await use(id);
      if (user) throw new EndpointInUseError(`registry endpoint ${id} is used by ${user}`);
    }
  }

  // Endpoints

  async listEndpoints(page: ListPage, name?: string): Promise<{ items: Endpoint[]; total: number }> {
    const q = this.knex('replication_endpoints');
    if (name) q.where('name', 'like', `%${name.replace(/[%_\\]/g, (c) => `\\${c}`)}%`);
    const [count] = (await q.clone().count({ n: '*' })) as Row[];
    const rows = (await orderBySort(q, page.sort ?? [], LIST_SORTS.registries).limit(page.pageSize).offset((page.page - 1) * page.pageSize)) as Row[];
    return { items: rows.map(endpointOf), total: (count ? bigint(count, 'n') : 0) };
  }

  async getEndpoint(id: number): Promise<Endpoint | undefined> {
    const row = (await this.knex('replication_endpoints').where({ id }).first()) as Row | undefined;
    return row && endpointOf(row);
  }

  async getEndpointByName(name: string): Promise<Endpoint | undefined> {
    const row = (await this.knex('replication_endpoints').where({ name }).first()) as Row | undefined;
    return row && endpointOf(row);
  }

  /** The endpoint's credentials, decrypted, to open a target. */
  async credentialsOf(id: number): Promise<ReplicationCredentials | undefined> {
    const row = (await this.knex('replication_endpoints').where({ id }).first('username', 'secret')) as Row | undefined;
    if (!row || row['secret'] === null || row['secret'] === undefined) return undefined;
    return { username: String(row['username'] ?? ''), password: this.box.decrypt(String(row['secret']), SECRET_CONTEXT) };
  }

  /** The same store on a transaction: its writes commit with the caller's other rows (events). */
  using(trx: Knex.Transaction): ReplicationStore {
    return new ReplicationStore(trx, this.box, this.db);
  }

  /** Runs `fn` in one transaction, with a store bound to it. */
  transaction<T>(fn: (store: ReplicationStore, trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction((trx) => fn(this.using(trx), trx));
  }

  async createEndpoint(input: EndpointInput): Promise<Endpoint> {
    const now = Date.now();
    const row = {
      name: input.name, description: input.description ?? '', type: input.type, url: input.url, username: input.username ?? null,
      secret: input.secret ? this.box.encrypt(input.secret, SECRET_CONTEXT) : null, insecure: input.insecure ?? false,
      ca_certificate: input.caCertificate ?? null, created_at: now, updated_at: now,
    };
    const id = await this.insert('replication_endpoints', row, `registry endpoint ${input.name} already exists`);
    return (await this.getEndpoint(id))!;
  }

  async updateEndpoint(id: number, input: EndpointInput): Promise<Endpoint | undefined> {
    const row: Row = {
      name: input.name, description: input.description ?? '', type: input.type, url: input.url, username: input.username ?? null,
      insecure: input.insecure ?? false, ca_certificate: input.caCertificate ?? null, updated_at: Date.now(),
    };
    if (input.secret !== undefined) row['secret'] = input.secret === '' ? null : this.box.encrypt(input.secret, SECRET_CONTEXT);
    try {
      const n = await this.knex('replication_endpoints').where({ id }).update(row);
      return n ? this.getEndpoint(id) : undefined;
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new DuplicateNameError(`registry endpoint ${input.name} already exists`);
      throw err;
    }
  }

  async deleteEndpoint(id: number): Promise<boolean> {
    const used = (await this.knex('replication_policies').where({ endpoint_id: id }).first('name')) as Row | undefined;
    if (used) throw new EndpointInUseError(`registry endpoint ${id} is used by policy ${String(used['name'])}`);
    return (await this.knex('replication_endpoints').where({ id }).delete()) > 0;
  }

  // Policies

  async listPolicies(page: ListPage, name?: string): Promise<{ items: Policy[]; total: number }> {
    const q = this.knex('replication_policies');
    if (name) q.where('name', 'like', `%${name.replace(/[%_\\]/g, (c) => `\\${c}`)}%`);
    const [count] = (await q.clone().count({ n: '*' })) as Row[];
    const rows = (await orderBySort(q, page.sort ?? [], LIST_SORTS.policies).limit(page.pageSize).offset((page.page - 1) * page.pageSize)) as Row[];
    return { items: rows.map(policyOf), total: (count ? bigint(count, 'n') : 0) };
  }

  /** Enabled policies of a mode and trigger (event dispatch, schedule sync). */
  async enabledPolicies(filter: { mode?: Policy['mode']; trigger?: Policy['trigger'] } = {}): Promise<Policy[]> {
    const q = this.knex('replication_policies').where({ enabled: true });
    if (filter.mode) q.andWhere({ mode: filter.mode });
    if (filter.trigger) q.andWhere({ trigger: filter.trigger });
    return ((await q.orderBy('id')) as Row[]).map(policyOf);
  }

  async getPolicy(id: number): Promise<Policy | undefined> {
    const row = (await this.knex('replication_policies').where({ id }).first()) as Row | undefined;
    return row && policyOf(row);
  }

  async getPolicyByName(name: string): Promise<Policy | undefined> {
    const row = (await this.knex('replication_policies').where({ name }).first()) as Row | undefined;
    return row && policyOf(row);
  }

  /** Creates a policy; `createdBy` (a user name) is kept for good: updates do not change it. */
  async createPolicy(input: PolicyInput, createdBy?: string): Promise<Policy> {
    const now = Date.now();
    const row = { ...policyRow(input), created_by: createdBy ?? null, created_at: now, updated_at: now };
    const id = await this.insert('replication_policies', row, `replication policy ${input.name} already exists`);
    return (await this.getPolicy(id))!;
  }

  async updatePolicy(id: number, input: PolicyInput): Promise<Policy | undefined> {
    try {
      const n = await this.knex('replication_policies').where({ id }).update({ ...policyRow(input), updated_at: Date.now() });
      return n ? this.getPolicy(id) : undefined;
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new DuplicateNameError(`replication policy ${input.name} already exists`);
      throw err;
    }
  }

  /** Deletes a policy with its history. */
  async deletePolicy(id: number): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const executions = trx('replication_executions').where({ policy_id: id }).select('id');
      const tasks = trx('replication_tasks').whereIn('execution_id', executions).select('id');
      await trx('replication_task_logs').whereIn('task_id', tasks).delete();
      await trx('replication_tasks').whereIn('execution_id', trx('replication_executions').where({ policy_id: id }).select('id')).delete();
      await trx('replication_executions').where({ policy_id: id }).delete();
      return (await trx('replication_policies').where({ id }).delete()) > 0;
    });
  }

  // Executions

  /**
   * Creates an execution. With `eventId` (an event-triggered run) it is created once per policy
   * and event: a redelivered event finds the execution it started before.
   */
  async createExecution(policyId: number, trigger: ExecutionTrigger, event?: ExecutionEvent, eventId?: string): Promise<{ id: number; created: boolean }> {
    const row = {
      policy_id: policyId, trigger, status: 'pending', status_text: '', event: event ? JSON.stringify(event) : null,
      planned: false, started_at: Date.now(), finished_at: null, event_id: eventId ?? null,
    };
    if (eventId === undefined) return { id: await this.insert('replication_executions', row, 'execution exists'), created: true };
    const existing = async () =>
      (await this.knex('replication_executions').where({ policy_id: policyId, event_id: eventId }).first('id')) as Row | undefined;
    const found = await existing();
    if (found) return { id: bigint(found, 'id'), created: false };
    try {
      return { id: await this.insert('replication_executions', row, 'execution exists'), created: true };
    } catch (err) {
      const raced = err instanceof DuplicateNameError ? await existing() : undefined;
      if (raced) return { id: bigint(raced, 'id'), created: false };
      throw err;
    }
  }

  async getExecution(id: number): Promise<Execution | undefined> {
    const row = (await this.knex('replication_executions').where({ id }).first()) as Row | undefined;
    if (!row) return undefined;
    const [stats] = await this.statsOf([id]);
    return this.executionOf(row, stats);
  }

  async listExecutions(page: ListPage, policyId?: number): Promise<{ items: Execution[]; total: number }> {
    const q = this.knex('replication_executions');
    if (policyId !== undefined) q.where({ policy_id: policyId });
    const [count] = (await q.clone().count({ n: '*' })) as Row[];
    const newestFirst = [{ field: 'id', descending: true }];
    const rows = (await orderBySort(q, page.sort ?? [], LIST_SORTS.executions, { fallback: newestFirst }).limit(page.pageSize).offset((page.page - 1) * page.pageSize)) as Row[];
    const stats = await this.statsOf(rows.map((r) => bigint(r, 'id')));
    return { items: rows.map((r, i) => this.executionOf(r, stats[i])), total: (count ? bigint(count, 'n') : 0) };
  }

  private executionOf(r: Row, stats: { counts: TaskCounts; bytes: number } | undefined): Execution {
    return {
      id: bigint(r, 'id'), policyId: bigint(r, 'policy_id'), trigger: oneOf(r, 'trigger', TRIGGERS),
      status: oneOf(r, 'status', STATUSES), statusText: string(r, 'status_text'),
      event: executionEventOf(r), planned: bool(r, 'planned'),
      startedAt: date(r, 'started_at'), finishedAt: optDate(r, 'finished_at'),
      tasks: stats?.counts ?? EMPTY_COUNTS, bytes: stats?.bytes ?? 0,
    };
  }

  /** Task counts by status and bytes copied, per execution, in the order of `ids`. */
  private async statsOf(ids: number[]): Promise<Array<{ counts: TaskCounts; bytes: number }>> {
    if (ids.length === 0) return [];
    const rows = (await this.knex('replication_tasks').whereIn('execution_id', ids)
      .groupBy('execution_id', 'status')
      .select('execution_id', 'status')
      .count({ n: '*' })
      .sum({ bytes: 'bytes' })) as Row[];
    return ids.map((id) => {
      const counts = { ...EMPTY_COUNTS };
      let bytes = 0;
      for (const r of rows) {
        if (bigint(r, 'execution_id') !== id) continue;
        const n = bigint(r, 'n');
        const status = oneOf(r, 'status', STATUSES);
        if (status !== 'stopping') counts[status] += n;
        counts.total += n;
        bytes += optionalBigint(r, 'bytes') ?? 0;
      }
      return { counts, bytes };
    });
  }

  /**
   * Moves an execution to `status` if it is in one of `from` (compare-and-set, so a stop and
   * the last task finishing cannot both win). Resolves whether it moved.
   */
  async setExecutionStatus(id: number, status: ReplicationStatus, from: readonly ReplicationStatus[], text?: string): Promise<boolean> {
    const final = ['succeeded', 'failed', 'stopped'].includes(status);
    const n = await this.knex('replication_executions').where({ id }).whereIn('status', [...from]).update({
      status, ...(text === undefined ? {} : { status_text: text.slice(0, 2048) }), finished_at: final ? Date.now() : null,
    });
    return n > 0;
  }

  async markPlanned(id: number): Promise<void> {
    await this.knex('replication_executions').where({ id }).update({ planned: true });
  }

  /** Executions in `statuses` (stuck-execution recovery at boot). */
  async executionsIn(statuses: readonly ReplicationStatus[]): Promise<Array<{ id: number; planned: boolean }>> {
    const rows = (await this.knex('replication_executions').whereIn('status', [...statuses]).select('id', 'planned')) as Row[];
    return rows.map((r) => ({ id: bigint(r, 'id'), planned: bool(r, 'planned') }));
  }

  /** Deletes all but the newest `keep` finished executions of a policy, with their tasks and logs. */
  async pruneExecutions(policyId: number, keep: number): Promise<number> {
    const rows = (await this.knex('replication_executions').where({ policy_id: policyId })
      .whereIn('status', ['succeeded', 'failed', 'stopped']).orderBy('id', 'desc').offset(keep).limit(10_000).select('id')) as Row[];
    const ids = rows.map((r) => bigint(r, 'id'));
    if (ids.length === 0) return 0;
    await this.knex.transaction(async (trx) => {
      for (let i = 0; i < ids.length; i += 200) {
        const chunk = ids.slice(i, i + 200);
        await trx('replication_task_logs').whereIn('task_id', trx('replication_tasks').whereIn('execution_id', chunk).select('id')).delete();
        await trx('replication_tasks').whereIn('execution_id', chunk).delete();
        await trx('replication_executions').whereIn('id', chunk).delete();
      }
    });
    return ids.length;
  }

  // Tasks

  /** Adds planned tasks; ones already there (a plan run twice) are left as they are. */
  async addTasks(executionId: number, tasks: readonly PlannedTask[]): Promise<void> {
    for (let i = 0; i < tasks.length; i += 100) {
      const rows = tasks.slice(i, i + 100).map((t) => ({
        execution_id: executionId, operation: t.operation, source_repository: t.sourceRepository, source_reference: t.sourceReference,
        destination_repository: t.destinationRepository, destination_reference: t.destinationReference, status: 'pending',
        attempts: 0, bytes: 0,
      }));
      await this.knex('replication_tasks').insert(rows).onConflict(['execution_id', 'operation', 'source_repository', 'source_reference']).ignore();
    }
  }

  async getTask(id: number): Promise<Task | undefined> {
    const row = (await this.knex('replication_tasks').where({ id }).first()) as Row | undefined;
    return row && taskOf(row);
  }

  async listTasks(executionId: number, page: ListPage, status?: string): Promise<{ items: Task[]; total: number }> {
    const q = this.knex('replication_tasks').where({ execution_id: executionId });
    if (status) q.andWhere({ status });
    const [count] = (await q.clone().count({ n: '*' })) as Row[];
    const rows = (await orderBySort(q, page.sort ?? [], LIST_SORTS.tasks).limit(page.pageSize).offset((page.page - 1) * page.pageSize)) as Row[];
    return { items: rows.map(taskOf), total: (count ? bigint(count, 'n') : 0) };
  }

  /** Ids of an execution's tasks in `statuses`. */
  async taskIds(executionId: number, statuses: readonly ReplicationStatus[]): Promise<number[]> {
    const rows = (await this.knex('replication_tasks').where({ execution_id: executionId }).whereIn('status', [...statuses]).orderBy('id').select('id')) as Row[];
    return rows.map((r) => bigint(r, 'id'));
  }

  /** Compare-and-set of a task's status, with the fields that go with it. */
  async setTaskStatus(
    id: number,
    status: ReplicationStatus,
    from: readonly ReplicationStatus[],
    fields: { bytes?: number; digest?: string; error?: string | null; attempt?: boolean } = {},
  ): Promise<boolean> {
    const now = Date.now();
    const update: Row = { status };
    if (status === 'running') update['started_at'] = now;
    update['finished_at'] = ['succeeded', 'failed', 'stopped', 'skipped'].includes(status) ? now : null;
    if (fields.bytes !== undefined) update['bytes'] = fields.bytes;
    if (fields.digest !== undefined) update['digest'] = fields.digest;
    if (fields.error !== undefined) update['error'] = fields.error === null ? null : fields.error.slice(0, 2048);
    if (fields.attempt) update['attempts'] = this.knex.raw('attempts + 1');
    return (await this.knex('replication_tasks').where({ id }).whereIn('status', [...from]).update(update)) > 0;
  }

  /** Moves every task of an execution in `from` to `status`; resolves their ids. */
  async setTasksStatus(executionId: number, status: ReplicationStatus, from: readonly ReplicationStatus[]): Promise<number[]> {
    const ids = await this.taskIds(executionId, from);
    if (ids.length === 0) return [];
    const final = ['succeeded', 'failed', 'stopped', 'skipped'].includes(status);
    await this.knex('replication_tasks').whereIn('id', ids).whereIn('status', [...from]).update({ status, finished_at: final ? Date.now() : null });
    return ids;
  }

  async appendLog(taskId: number, message: string): Promise<void> {
    await this.knex('replication_task_logs').insert({ task_id: taskId, at: Date.now(), message: message.slice(0, 2048) });
  }

  async taskLog(taskId: number): Promise<Array<{ at: Date; message: string }>> {
    const rows = (await this.knex('replication_task_logs').where({ task_id: taskId }).orderBy('id').limit(10_000)) as Row[];
    return rows.map((r) => ({ at: date(r, 'at'), message: string(r, 'message') }));
  }

  private async insert(table: string, row: Row, duplicate: string): Promise<number> {
    try {
      const insert = this.knex(table).insert(row);
      // MySQL has no RETURNING; its driver answers the new id anyway.
      const result = (await (this.db.dialect === 'mysql' ? insert : insert.returning('id'))) as Array<{ id: unknown } | number>;
      const first = result[0];
      const id = Number(typeof first === 'object' && first !== null ? first.id : first);
      if (!Number.isFinite(id)) throw new TypeError(`expected a new id from the database, got ${String(first)}`);
      return id;
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new DuplicateNameError(duplicate);
      throw err;
    }
  }
}
