import { ApiError, CliRefusal, defineCliCommand, formatTable, type CliCall, type CliCommandGroup, type RepositorySelector, type TagSelector } from '@wharf/sdk';
import { RuleLimitError } from './rule-store.js';
import type { ImmutableTagRule } from './rule-store.js';
import { tagImmutabilityServiceRef, type TagImmutabilityService } from './services.js';

/**
 * `wharf immutability list|add|delete|enable|disable`: a project's rules on the configured
 * database, for operators and scripts (`--json`). Patterns are checked as the API checks them.
 */

const deps = { rules: tagImmutabilityServiceRef };
type Deps = { rules: TagImmutabilityService };
const json = { flags: '--json', description: 'print JSON instead of a table' };
const CLI_CREATOR = 'wharf-cli';

const refusing =
  (run: (deps: Deps, call: CliCall) => Promise<number>) =>
  async (resolved: Deps, call: CliCall): Promise<number> => {
    try {
      return await run(resolved, call);
    } catch (err) {
      if (err instanceof ApiError) throw new CliRefusal(err.code, err.message);
      if (err instanceof RuleLimitError) throw new CliRefusal('CONFLICT', `${err.message} (extensions.tag-immutability.maxRulesPerProject)`);
      throw err;
    }
  };

const projectArg = (value: string | undefined): string => {
  if (!value || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(value)) throw new CliRefusal('BAD_REQUEST', `"${value ?? ''}" is not a project name`);
  return value;
};

const idArg = (value: string | undefined): number => {
  if (!value || !/^[1-9]\d{0,15}$/.test(value)) throw new CliRefusal('BAD_REQUEST', `"${value ?? ''}" is not a rule id`);
  return Number(value);
};

const describeSelectors = (selectors: readonly (RepositorySelector | TagSelector)[]) =>
  selectors.map((s) => `${/xcludes$/.test(s.decoration) ? 'not ' : ''}${s.kind === 'regex' ? `/${s.pattern}/` : s.pattern}`).join(', ');

const rulesTable = (rules: readonly ImmutableTagRule[]) =>
  formatTable(['ID', 'PRIORITY', 'ENABLED', 'REPOSITORIES', 'TAGS'], rules.map((r) => [String(r.id), String(r.priority), r.enabled ? 'yes' : 'no', describeSelectors(r.repositories), describeSelectors(r.tags)]));

const list = defineCliCommand({
  usage: 'list <project>',
  description: "list a project's tag immutability rules in priority order",
  options: [json],
  deps,
  run: refusing(async ({ rules }, { args: [project], options, stdout }) => {
    const found = await rules.list(projectArg(project));
    stdout(options['json'] === true ? JSON.stringify(found, null, 2) : rulesTable(found));
    return 0;
  }),
});

const add = defineCliCommand({
  usage: 'add <project>',
  description: 'add a rule: tags selected by --tags (and not --exclude-tags) in repositories selected by --repositories (default **) become immutable',
  options: [
    { flags: '--tags <pattern>', description: 'tags the rule protects (a doublestar glob, or a regex with --regex)' },
    { flags: '--exclude-tags <pattern>', description: 'tags left out' },
    { flags: '--repositories <pattern>', description: 'repositories, by name within the project', default: '**' },
    { flags: '--exclude-repositories <pattern>', description: 'repositories left out' },
    { flags: '--regex', description: 'the patterns are regular expressions (anchored), not globs' },
    { flags: '--priority <n>', description: 'lower first', default: '0' },
    { flags: '--disabled', description: 'store the rule disabled' },
    json,
  ],
  deps,
  run: refusing(async ({ rules }, { args: [projectValue], options, stdout }) => {
    const project = projectArg(projectValue);
    const kind = options['regex'] === true ? ('regex' as const) : ('doublestar' as const);
    const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
    const tagsPattern = text('tags');
    if (tagsPattern === undefined && text('excludeTags') === undefined) throw new CliRefusal('BAD_REQUEST', 'say which tags: --tags <pattern> or --exclude-tags <pattern>');
    const priority = Number(text('priority') ?? '0');
    if (!Number.isInteger(priority) || priority < 0) throw new CliRefusal('BAD_REQUEST', '--priority must be a whole number, 0 or more');
    const repositories: RepositorySelector[] = [{ kind, decoration: 'repoMatches', pattern: text('repositories') ?? '**' }];
    const excludeRepositories = text('excludeRepositories');
    if (excludeRepositories !== undefined) repositories.push({ kind, decoration: 'repoExcludes', pattern: excludeRepositories });
    const tags: TagSelector[] = [];
    if (tagsPattern !== undefined) tags.push({ kind, decoration: 'matches', pattern: tagsPattern });
    const excludeTags = text('excludeTags');
    if (excludeTags !== undefined) tags.push({ kind, decoration: 'excludes', pattern: excludeTags });
    const rule = await rules.create(project, { priority, enabled: options['disabled'] !== true, repositories, tags }, CLI_CREATOR);
    stdout(options['json'] === true ? JSON.stringify(rule, null, 2) : `immutability rule ${rule.id} added to project ${project}`);
    return 0;
  }),
});

const remove = defineCliCommand({
  usage: 'delete <project> <id>',
  description: 'delete a rule',
  deps,
  run: refusing(async ({ rules }, { args: [project, id], stdout }) => {
    const removed = await rules.remove(projectArg(project), idArg(id));
    if (!removed) throw new CliRefusal('NOT_FOUND', `no immutability rule ${id} in project ${project}`);
    stdout(`immutability rule ${removed.id} deleted from project ${removed.project}`);
    return 0;
  }),
});

const toggle = (enabled: boolean) =>
  defineCliCommand({
    usage: `${enabled ? 'enable' : 'disable'} <project> <id>`,
    description: `${enabled ? 'enable' : 'disable'} a rule`,
    deps,
    run: refusing(async ({ rules }, { args: [project, id], stdout }) => {
      const updated = await rules.update(projectArg(project), idArg(id), { enabled });
      if (!updated) throw new CliRefusal('NOT_FOUND', `no immutability rule ${id} in project ${project}`);
      stdout(`immutability rule ${updated.id} ${enabled ? 'enabled' : 'disabled'}`);
      return 0;
    }),
  });

/** `wharf immutability ...`, contributed by the plugin. */
export const immutabilityCommands: readonly CliCommandGroup[] = Object.freeze([
  { name: 'immutability', description: 'tag immutability rules of a project (extensions: { tag-immutability: {} })', commands: [list, add, remove, toggle(true), toggle(false)] },
]);
