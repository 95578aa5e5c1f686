import type { DatabaseService } from '@wharf/sdk';
import { TABLES } from './migrations.js';

/** One upstream of a proxy-cache project, as stored: the endpoint by id, and the path prefix. */
export interface StoredUpstream {
  readonly endpointId: number;
  readonly pathPrefix: string;
}

export interface ProxySettings {
  readonly project: string;
  readonly upstreams: readonly StoredUpstream[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * The proxy-cache settings of projects. Every `/v2/` pull asks whether its project is a proxy,
 * so answers (also "not a proxy") are kept in memory for `cacheMs`; a change on this node
 * forgets them at once, one on another node counts after `cacheMs`.
 */
export class ProxySettingsStore {
  readonly #cache = new Map<string, { at: number; value: ProxySettings | undefined }>();

  constructor(
    private readonly database: DatabaseService,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(project: string): Promise<ProxySettings | undefined> {
    const hit = this.#cache.get(project);
    if (hit && this.now() - hit.at < this.cacheMs) return hit.value;
    const row = (await this.database.knex(TABLES.projects).where({ project }).first()) as Record<string, unknown> | undefined;
    const value = row ? settingsOf(row) : undefined;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(project, { at: this.now(), value });
    return value;
  }

  async put(project: string, upstreams: readonly StoredUpstream[]): Promise<ProxySettings> {
    const now = this.now();
    const json = JSON.stringify(upstreams.map((u) => ({ endpointId: u.endpointId, pathPrefix: u.pathPrefix })));
    await this.database.knex(TABLES.projects)
      .insert({ project, upstreams: json, created_at: now, updated_at: now })
      .onConflict('project')
      .merge(['upstreams', 'updated_at']);
    this.#cache.delete(project);
    const stored = await this.get(project);
    if (!stored) throw new Error(`proxy-cache settings of ${project} vanished while being written`);
    return stored;
  }

  /** A project with `endpointId` among its upstreams (the first by name), if any. */
  async projectUsing(endpointId: number): Promise<string | undefined> {
    // Upstreams are a JSON column, and proxy projects are few: read them all.
    const rows = (await this.database.knex(TABLES.projects).select('project', 'upstreams', 'created_at', 'updated_at').orderBy('project')) as Record<string, unknown>[];
    return rows.map(settingsOf).find((s) => s.upstreams.some((u) => u.endpointId === endpointId))?.project;
  }

  async delete(project: string): Promise<boolean> {
    const n = await this.database.knex(TABLES.projects).where({ project }).delete();
    this.#cache.delete(project);
    return n > 0;
  }
}

function settingsOf(row: Record<string, unknown>): ProxySettings {
  const upstreams = JSON.parse(String(row['upstreams'])) as StoredUpstream[];
  return {
    project: String(row['project']),
    upstreams: upstreams.map((u) => ({ endpointId: Number(u.endpointId), pathPrefix: String(u.pathPrefix ?? '') })),
    createdAt: new Date(Number(row['created_at'])),
    updatedAt: new Date(Number(row['updated_at'])),
  };
}
