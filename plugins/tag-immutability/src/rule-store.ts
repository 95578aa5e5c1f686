import { randomUUID } from 'node:crypto';
import type { DatabaseService, Knex, RepositorySelector, TagSelector } from '@wharf/sdk';
import { TABLES } from './migrations.js';

/** One immutability rule of a project. */
export interface ImmutableTagRule {
  readonly id: number;
  readonly project: string;
  readonly priority: number;
  readonly enabled: boolean;
  readonly repositories: readonly RepositorySelector[];
  readonly tags: readonly TagSelector[];
  readonly creator: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What a caller sets; selectors must have been checked (`compile*Selectors`) before. */
export type RuleInput = Pick<ImmutableTagRule, 'priority' | 'enabled' | 'repositories' | 'tags'>;

interface Row {
  id: number | string;
  project: string;
  priority: number | string;
  enabled: boolean | number;
  repositories: string;
  tags: string;
  creator: string;
  created_at: number | string;
  updated_at: number | string;
}

function fromRow(row: Row): ImmutableTagRule {
  return {
    id: Number(row.id),
    project: row.project,
    priority: Number(row.priority),
    enabled: Boolean(row.enabled),
    repositories: JSON.parse(row.repositories) as RepositorySelector[],
    tags: JSON.parse(row.tags) as TagSelector[],
    creator: row.creator,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Runs in the write's transaction (an audit event that commits or rolls back with it). */
export type AfterWrite = (rule: ImmutableTagRule) => Promise<unknown>;

/** A refusal of the store: too many rules in the project. */
export class RuleLimitError extends Error {
  constructor(readonly limit: number) {
    super(`a project holds at most ${limit} immutability rules`);
    this.name = 'RuleLimitError';
  }
}

/**
 * Rules in the plugin's table. Every write changes the project's version token in the same
 * transaction, which is how the other nodes' caches learn of it.
 */
export class RuleStore {
  constructor(private readonly database: DatabaseService) {}

  /** A project's rules, by priority then id. */
  async list(project: string, db: Knex = this.database.knex): Promise<ImmutableTagRule[]> {
    const rows = await db<Row>(TABLES.rules).where({ project }).orderBy([{ column: 'priority' }, { column: 'id' }]);
    return (rows as Row[]).map(fromRow);
  }

  async get(project: string, id: number): Promise<ImmutableTagRule | undefined> {
    const row = await this.database.knex<Row>(TABLES.rules).where({ project, id }).first();
    return row ? fromRow(row as Row) : undefined;
  }

  /** The project's version token; undefined when it never had a rule. One primary-key read. */
  async version(project: string): Promise<string | undefined> {
    const row = await this.database.knex(TABLES.versions).where({ project }).first('version');
    return row ? String((row as { version: string }).version) : undefined;
  }

  async create(project: string, input: RuleInput, creator: string, limit: number, after?: AfterWrite): Promise<ImmutableTagRule> {
    return this.database.transaction(async (trx) => {
      const [count] = await trx(TABLES.rules).where({ project }).count<{ n: number | string }[]>({ n: '*' });
      if (Number(count?.n ?? 0) >= limit) throw new RuleLimitError(limit);
      const now = Date.now();
      const inserted = await trx(TABLES.rules).insert(
        { project, priority: input.priority, enabled: input.enabled, repositories: JSON.stringify(input.repositories), tags: JSON.stringify(input.tags), creator: creator.slice(0, 255), created_at: now, updated_at: now },
        ['id'],
      );
      const first = inserted[0] as { id: number | string } | number | undefined;
      const id = typeof first === 'object' ? Number(first.id) : Number(first);
      await this.bump(trx, project);
      const rule = fromRow((await trx<Row>(TABLES.rules).where({ id }).first()) as Row);
      await after?.(rule);
      return rule;
    });
  }

  /** Replaces a rule's settings; undefined when it does not exist. */
  async update(project: string, id: number, input: Partial<RuleInput>, after?: AfterWrite): Promise<ImmutableTagRule | undefined> {
    return this.database.transaction(async (trx) => {
      const changes: Record<string, unknown> = { updated_at: Date.now() };
      if (input.priority !== undefined) changes['priority'] = input.priority;
      if (input.enabled !== undefined) changes['enabled'] = input.enabled;
      if (input.repositories !== undefined) changes['repositories'] = JSON.stringify(input.repositories);
      if (input.tags !== undefined) changes['tags'] = JSON.stringify(input.tags);
      const n = await trx(TABLES.rules).where({ project, id }).update(changes);
      if (n === 0) return undefined;
      await this.bump(trx, project);
      const rule = fromRow((await trx<Row>(TABLES.rules).where({ id }).first()) as Row);
      await after?.(rule);
      return rule;
    });
  }

  /** Deletes a rule; resolves what it was, undefined when it did not exist. */
  async remove(project: string, id: number, after?: AfterWrite): Promise<ImmutableTagRule | undefined> {
    return this.database.transaction(async (trx) => {
      const row = await trx<Row>(TABLES.rules).where({ project, id }).first();
      if (!row) return undefined;
      await trx(TABLES.rules).where({ project, id }).delete();
      await this.bump(trx, project);
      const rule = fromRow(row as Row);
      await after?.(rule);
      return rule;
    });
  }

  /**
   * Deletes the rules of a deleted project that existed when it was deleted (`before`, epoch ms),
   * so a project re-created meanwhile keeps the rules given to it since. Resolves how many went.
   */
  async removeProject(project: string, before: number): Promise<number> {
    return this.database.transaction(async (trx) => {
      const n = await trx(TABLES.rules).where({ project }).andWhere('created_at', '<=', before).delete();
      if (n > 0) await this.bump(trx, project);
      return n;
    });
  }

  /** A new version token for the project (an upsert every dialect knex speaks understands). */
  private async bump(trx: Knex.Transaction, project: string): Promise<void> {
    await trx(TABLES.versions).insert({ project, version: randomUUID() }).onConflict('project').merge(['version']);
  }
}
