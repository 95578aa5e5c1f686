import { CliRefusal, defineCliCommand, formatTable, type CliCommandGroup } from '@wharf/sdk';
import { quotasServiceRef } from './services.js';
import { formatSize, parseSize } from './sizes.js';
import { quotaView } from './views.js';

/** `wharf quota get|set`: a project's quota on the configured database, for scripts (`--json`). */

const PROJECT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const json = { flags: '--json', description: 'print JSON instead of a table' };
const deps = { quotas: quotasServiceRef };

function checkProject(project: string): void {
  if (!PROJECT.test(project) || project.length > 255) throw new CliRefusal('BAD_REQUEST', `"${project}" is not a project name`);
}

const count = (n: number): string => (n < 0 ? 'unlimited' : String(n));

const get = defineCliCommand({
  usage: 'get <project>',
  description: "show a project's quota and usage (recomputed from its content first with --recompute)",
  options: [{ flags: '--recompute', description: "recompute the usage from the project's repositories before showing it" }, json],
  deps,
  async run({ quotas }, { args: [project = ''], options, stdout }) {
    checkProject(project);
    const row = options['recompute'] === true ? await quotas.service.reconcile(project) : await quotas.store.ensure(project);
    if (options['json'] === true) {
      stdout(JSON.stringify(quotaView(row), null, 2));
      return 0;
    }
    stdout(formatTable(['PROJECT', 'STORAGE USED', 'STORAGE QUOTA', 'ARTIFACTS', 'ARTIFACT QUOTA'], [[row.project, formatSize(row.storageUsed), formatSize(row.storageLimit), String(row.countUsed), count(row.countLimit)]]));
    return 0;
  },
});

const set = defineCliCommand({
  usage: 'set <project>',
  description: "set a project's storage and/or artifact count quota (-1 = unlimited)",
  options: [
    { flags: '--storage <size>', description: 'bytes or a size such as 10GiB or 500MB; -1 = unlimited' },
    { flags: '--count <n>', description: 'artifacts; -1 = unlimited' },
    { flags: '--repository-storage <size>', description: 'bytes each repository of the project may hold; -1 = unlimited' },
    json,
  ],
  deps,
  async run({ quotas }, { args: [project = ''], options, stdout }) {
    checkProject(project);
    const storageOption = options['storage'];
    const countOption = options['count'];
    const repositoryOption = options['repositoryStorage'];
    if (storageOption === undefined && countOption === undefined && repositoryOption === undefined) throw new CliRefusal('BAD_REQUEST', 'give --storage, --count and/or --repository-storage');
    let storage: number | undefined;
    let repositoryStorage: number | undefined;
    let countLimit: number | undefined;
    try {
      storage = typeof storageOption === 'string' ? parseSize(storageOption) : undefined;
      repositoryStorage = typeof repositoryOption === 'string' ? parseSize(repositoryOption) : undefined;
    } catch (err) {
      throw new CliRefusal('BAD_REQUEST', (err as Error).message);
    }
    if (typeof countOption === 'string') {
      countLimit = Number(countOption);
      if (!Number.isSafeInteger(countLimit) || countLimit < -1) throw new CliRefusal('BAD_REQUEST', `--count ${countOption} is not a count (an integer, -1 = unlimited)`);
    }
    const row = await quotas.store.setLimits(project, { ...(storage !== undefined ? { storage } : {}), ...(countLimit !== undefined ? { count: countLimit } : {}), ...(repositoryStorage !== undefined ? { repositoryStorage } : {}) });
    if (options['json'] === true) stdout(JSON.stringify(quotaView(row), null, 2));
    else stdout(`quota of ${project}: storage ${formatSize(row.storageLimit)}, artifacts ${count(row.countLimit)}, per repository ${formatSize(row.repositoryStorageLimit)}`);
    return 0;
  },
});

/** `wharf quota ...`, contributed by the plugin. */
export const quotasCommands: readonly CliCommandGroup[] = Object.freeze([
  { name: 'quota', description: "show and set projects' quotas (extensions: { quotas: {} })", commands: [get, set] },
]);
