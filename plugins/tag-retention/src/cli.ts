import { readFile } from 'node:fs/promises';
import { ApiError, CliRefusal, defineCliCommand, formatTable, type CliCommandGroup } from '@wharf/sdk';
import { executionView, policyView } from './api.js';
import type { PolicyBody } from './api-schemas.js';
import { retentionServiceRef, type Retention } from './retention.js';
import { ExecutionActiveError } from './runner.js';
import { describeSelectors } from './selectors.js';
import { validatePolicy } from './validation.js';
import type { Static } from '@wharf/sdk';

/**
 * `wharf retention show|set|run|executions`: a project's retention policy on the configured
 * database. `run` executes the policy in this process (no server needed) and prints what was
 * (or, with `--dry-run`, would be) deleted; deletes go through the policy gates as the API's do.
 */

const deps = { retention: retentionServiceRef };
const json = { flags: '--json', description: 'print JSON instead of text' };
const PROJECT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

function projectArg(project: string | undefined): string {
  if (!project || !PROJECT.test(project)) throw new CliRefusal('BAD_REQUEST', `"${project ?? ''}" is not a project name`);
  return project;
}

const refusing =
  <A extends unknown[]>(run: (...args: A) => Promise<number>) =>
  async (...args: A): Promise<number> => {
    try {
      return await run(...args);
    } catch (err) {
      if (err instanceof ApiError) throw new CliRefusal(err.code, err.message);
      if (err instanceof ExecutionActiveError) throw new CliRefusal('CONFLICT', err.message);
      throw err;
    }
  };

const show = defineCliCommand({
  usage: 'show <project>',
  description: "print a project's retention policy (rules and schedule)",
  options: [json],
  deps,
  run: refusing(async ({ retention }: { retention: Retention }, { args: [name], options, stdout }) => {
    const project = projectArg(name);
    const policy = await retention.store.getPolicy(project);
    if (!policy) throw new CliRefusal('NOT_FOUND', `project ${project} has no retention policy`);
    if (options['json'] === true) {
      stdout(JSON.stringify(policyView(policy), null, 2));
      return 0;
    }
    stdout(`schedule: ${policy.cron ?? 'none (on demand)'}`);
    stdout(formatTable(['#', 'TEMPLATE', 'VALUE', 'REPOSITORIES', 'TAGS', 'UNTAGGED', 'ENABLED'], policy.rules.map((r, i) => [
      String(i + 1), r.template, r.value === undefined ? '-' : String(r.value),
      describeSelectors(r.repositories), describeSelectors(r.tags), r.untagged ? 'yes' : 'no', r.disabled ? 'no' : 'yes',
    ])));
    return 0;
  }),
});

const set = defineCliCommand({
  usage: 'set <project> <file>',
  description: 'replace a project\'s retention policy with the JSON in <file> (the body of PUT /api/v1/projects/{p}/retention: {"rules": [...], "cron": "..."})',
  deps,
  run: refusing(async ({ retention }: { retention: Retention }, { args: [name, file], stdout }) => {
    const project = projectArg(name);
    if (!file) throw new CliRefusal('BAD_REQUEST', 'a policy file is needed');
    let body: unknown;
    try {
      body = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new CliRefusal('BAD_REQUEST', `${file}: ${(err as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || !Array.isArray((body as { rules?: unknown }).rules)) throw new CliRefusal('BAD_REQUEST', `${file}: expected {"rules": [...]}`);
    const { rules, cron } = validatePolicy(body as Static<typeof PolicyBody>, retention.maxRules);
    await retention.putPolicy(project, rules, cron, 'wharf-cli');
    stdout(`retention policy of ${project} set: ${rules.length} rules, schedule ${cron ?? 'none'}`);
    return 0;
  }),
});

const run = defineCliCommand({
  usage: 'run <project>',
  description: "run a project's retention policy now, in this process; exit 1 unless it succeeded",
  options: [{ flags: '--dry-run', description: 'only report what would be deleted, and why' }, json],
  deps,
  run: refusing(async ({ retention }: { retention: Retention }, { args: [name], options, stdout }) => {
    const project = projectArg(name);
    const policy = await retention.store.getPolicy(project);
    if (!policy) throw new CliRefusal('NOT_FOUND', `project ${project} has no retention policy`);
    const execution = await retention.runner.start(project, { trigger: 'manual', dryRun: options['dry-run'] === true || options['dryRun'] === true, rules: policy.rules, by: 'wharf-cli' }, true);
    const tasks = await retention.store.listTasks(execution.id, { page: 1, pageSize: 1000 });
    if (options['json'] === true) {
      const details = [];
      for (const t of tasks.items) details.push({ repository: t.repository, status: t.status, decisions: await retention.store.decisions(t.id) });
      stdout(JSON.stringify({ execution: executionView(execution), tasks: details }, null, 2));
    } else {
      for (const t of tasks.items) {
        for (const d of await retention.store.decisions(t.id)) stdout(`${t.repository}@${d.digest} [${d.tags.join(', ')}] ${d.outcome}: ${d.reason}`);
      }
      stdout(`execution ${execution.id}: ${execution.status} (${execution.statusText})`);
    }
    return execution.status === 'succeeded' ? 0 : 1;
  }),
});

const executions = defineCliCommand({
  usage: 'executions <project>',
  description: "a project's retention executions, newest first",
  options: [json],
  deps,
  run: refusing(async ({ retention }: { retention: Retention }, { args: [name], options, stdout }) => {
    const project = projectArg(name);
    const { items } = await retention.store.listExecutions(project, { page: 1, pageSize: 100 });
    if (options['json'] === true) {
      stdout(JSON.stringify(items.map(executionView), null, 2));
      return 0;
    }
    stdout(formatTable(['ID', 'TRIGGER', 'DRY RUN', 'STATUS', 'RETAINED', 'DELETED', 'TOTAL', 'STARTED'], items.map((e) => [
      String(e.id), e.trigger, e.dryRun ? 'yes' : 'no', e.status, String(e.retained), String(e.deleted), String(e.total), e.startedAt.toISOString(),
    ])));
    return 0;
  }),
});

export const retentionCommands: CliCommandGroup = Object.freeze({
  name: 'retention',
  description: "projects' tag retention policies: show, set, run (--dry-run), executions",
  commands: [show, set, run, executions],
});
