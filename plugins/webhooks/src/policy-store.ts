import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseService } from '@wharf/sdk';
import { TABLES } from './migrations.js';

/** A target as stored: the auth header sealed, never in clear. */
export interface StoredTarget {
  readonly type: string;
  readonly address: string;
  readonly authHeaderSealed?: string | undefined;
  readonly skipCertVerify: boolean;
  readonly caCertPem?: string | undefined;
  readonly payloadFormat: 'Default' | 'CloudEvents';
}

export interface Policy {
  readonly id: number;
  readonly project: string;
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly eventTypes: readonly string[];
  readonly targets: readonly StoredTarget[];
  readonly secretSealed: string;
  readonly creator: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type PolicyInput = Pick<Policy, 'name' | 'description' | 'enabled' | 'eventTypes' | 'targets'>;

interface Row {
  id: number | string;
  project: string;
  name: string;
  description: string;
  enabled: boolean | number;
  event_types: string;
  targets: string;
  secret_sealed: string;
  creator: string;
  created_at: number | string;
  updated_at: number | string;
}

function fromRow(row: Row): Policy {
  return {
    id: Number(row.id),
    project: row.project,
    name: row.name,
    description: row.description,
    enabled: Boolean(row.enabled),
    eventTypes: JSON.parse(row.event_types) as string[],
    targets: JSON.parse(row.targets) as StoredTarget[],
    secretSealed: row.secret_sealed,
    creator: row.creator,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Policies in the plugin's table. Writes go through `database.knex`, so they join a surrounding transaction. */
export class PolicyStore {
  constructor(private readonly database: DatabaseService) {}

  private get table() {
    return this.database.knex<Row>(TABLES.policies);
  }

  async list(project: string, page: { page: number; pageSize: number }, name?: string): Promise<{ items: Policy[]; total: number }> {
    const filtered = () => {
      const q = this.database.knex<Row>(TABLES.policies).where({ project });
      return name === undefined ? q : q.where('name', name);
    };
    const [count] = await filtered().count<{ n: number | string }[]>({ n: '*' });
    const rows = await filtered().orderBy('id', 'asc').limit(page.pageSize).offset((page.page - 1) * page.pageSize);
    return { items: (rows as Row[]).map(fromRow), total: Number(count?.n ?? 0) };
  }

  async get(project: string, id: number): Promise<Policy | undefined> {
    const row = await this.table.where({ project, id }).first();
    return row ? fromRow(row as Row) : undefined;
  }

  async byId(id: number): Promise<Policy | undefined> {
    const row = await this.table.where({ id }).first();
    return row ? fromRow(row as Row) : undefined;
  }

  /** Enabled policies of a project subscribed to a Harbor event type. */
  async subscribed(project: string, harborType: string): Promise<Policy[]> {
    const rows = (await this.table.where({ project, enabled: true })) as Row[];
    return rows.map(fromRow).filter((p) => p.eventTypes.includes(harborType));
  }

  /** Projects with at least one enabled policy subscribed to a Harbor event type. */
  async projectsSubscribedTo(harborType: string): Promise<Set<string>> {
    const rows = (await this.database.knex(TABLES.policies).where({ enabled: true }).select('project', 'event_types')) as Array<Pick<Row, 'project' | 'event_types'>>;
    return new Set(rows.filter((r) => (JSON.parse(r.event_types) as string[]).includes(harborType)).map((r) => r.project));
  }

  /** Creates a policy; a duplicate name surfaces as the database's unique violation. */
  async create(project: string, input: PolicyInput, secretSealed: string, creator: string, now = Date.now()): Promise<Policy> {
    const row = {
      project,
      name: input.name,
      description: input.description,
      enabled: input.enabled,
      event_types: JSON.stringify(input.eventTypes),
      targets: JSON.stringify(input.targets),
      secret_sealed: secretSealed,
      creator,
      created_at: now,
      updated_at: now,
    };
    const inserted = await this.database.knex(TABLES.policies).insert(row, ['id']);
    const first = inserted[0] as { id: number | string } | number | string;
    const id = typeof first === 'object' ? Number(first.id) : Number(first);
    return (await this.get(project, id))!;
  }

  async update(project: string, id: number, input: PolicyInput, now = Date.now()): Promise<Policy | undefined> {
    const changed = await this.table.where({ project, id }).update({
      name: input.name,
      description: input.description,
      enabled: input.enabled,
      event_types: JSON.stringify(input.eventTypes),
      targets: JSON.stringify(input.targets),
      updated_at: now,
    } as Partial<Row>);
    return changed > 0 ? this.get(project, id) : undefined;
  }

  async remove(project: string, id: number): Promise<boolean> {
    if (!(await this.get(project, id))) return false;
    for (let attempt = 1; ; attempt++) {
      try {
        // Deliveries go with the policy (ON DELETE CASCADE; SQLite's foreign keys are on in the kernel).
        await this.database.knex(TABLES.deliveries).where({ policy_id: id }).delete();
        return (await this.table.where({ project, id }).delete()) > 0;
      } catch (err) {
        // A worker writing a batch of outcomes meanwhile locks some of these rows in another
        // order: PostgreSQL and MySQL end one side with a deadlock. Run the delete again.
        if (attempt >= 5 || !this.database.isTransientConflict(err)) throw err;
        await sleep(Math.random() * 20 * attempt);
      }
    }
  }
}
