import type { Logger } from 'pino';
import { compileRepositorySelectors, compileTagSelectors, type NameMatcher } from '@wharf/sdk';
import type { ImmutableTagRule, RuleStore } from './rule-store.js';

/** An enabled rule, its selectors compiled. */
export interface CompiledRule {
  readonly id: number;
  readonly repository: NameMatcher;
  readonly tag: NameMatcher;
}

interface Entry {
  readonly version: string | undefined;
  readonly rules: readonly CompiledRule[];
  checkedAt: number;
}

const everything: NameMatcher = () => true;

/**
 * Each project's enabled rules, compiled, per node. An entry is trusted for `recheckMs`; then
 * the project's version token is read (one primary-key read) and the rules reloaded only when it
 * changed. Writes made through this node invalidate at once.
 */
export class RuleCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<readonly CompiledRule[]>>();
  /** Bumped by each local write, so a look-up that started before it does not store what it read. */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly store: RuleStore,
    private readonly recheckMs: number,
    private readonly logger: Logger,
  ) {}

  /** The enabled rules of `project`, in priority order. */
  async rulesOf(project: string): Promise<readonly CompiledRule[]> {
    const entry = this.entries.get(project);
    if (entry && Date.now() - entry.checkedAt < this.recheckMs) return entry.rules;
    // Concurrent pushes to one project share one look-up.
    const existing = this.loading.get(project);
    if (existing) return existing;
    const pending: Promise<readonly CompiledRule[]> = this.refresh(project, entry).finally(() => {
      if (this.loading.get(project) === pending) this.loading.delete(project);
    });
    this.loading.set(project, pending);
    return pending;
  }

  /** After a local write has committed: the next look-up reads the rules again. */
  invalidate(project: string): void {
    this.entries.delete(project);
    this.loading.delete(project);
    this.generations.set(project, (this.generations.get(project) ?? 0) + 1);
  }

  private async refresh(project: string, entry: Entry | undefined): Promise<readonly CompiledRule[]> {
    const generation = this.generations.get(project) ?? 0;
    const checkedAt = Date.now();
    const version = await this.store.version(project);
    if (entry && entry.version === version) {
      if ((this.generations.get(project) ?? 0) === generation) entry.checkedAt = checkedAt;
      return entry.rules;
    }
    // Read after the version: a write in between leaves an older token with newer rules, which
    // the next check reloads; never a newer token with older rules.
    const rules = version === undefined ? [] : (await this.store.list(project)).filter((r) => r.enabled).map((r) => this.compile(r));
    if ((this.generations.get(project) ?? 0) === generation) this.entries.set(project, { version, rules, checkedAt });
    return rules;
  }

  /**
   * Stored selectors were checked when written. Should one fail now (a later, stricter check),
   * the rule protects every tag of the project: immutability fails closed.
   */
  private compile(rule: ImmutableTagRule): CompiledRule {
    const repository = compileRepositorySelectors(rule.repositories);
    const tag = compileTagSelectors(rule.tags);
    if (repository.ok && tag.ok) return { id: rule.id, repository: repository.match, tag: tag.match };
    const errors = [...(repository.ok ? [] : repository.errors), ...(tag.ok ? [] : tag.errors)];
    this.logger.error({ project: rule.project, rule: rule.id, errors }, 'immutability rule does not compile; it protects every tag of the project until fixed');
    return { id: rule.id, repository: everything, tag: everything };
  }
}
