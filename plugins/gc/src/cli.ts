import { CliRefusal, defineCliCommand, formatTable, type CliCall, type CliCommandGroup } from '@wharf/sdk';
import { runView } from './api.js';
import { gcServiceRef, type GcService } from './service.js';
import type { RunCounts, RunRecord } from './store.js';

/**
 * `wharf gc run|status|history`: collections from the operator's shell, on the configured
 * database and storage. `run` queues one for the servers' job workers and prints its id;
 * `--wait` runs it in this process instead (the lock keeps it the only one across nodes) with
 * progress: a bar on a terminal, plain lines every few seconds otherwise.
 */

const deps = { gc: gcServiceRef };
const json = { flags: '--json', description: 'print JSON instead of text' };

const bytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
};

export function summary(r: RunRecord | (RunCounts & { options: { dryRun: boolean } })): string {
  const verb = r.options.dryRun ? 'would free' : 'freed';
  return `${verb} ${bytes(r.bytesFreed)}: ${r.blobsDeleted} of ${r.candidates} candidate blobs, ${r.artifactsDeleted} untagged artifacts, ${r.uploadsPurged} idle uploads; ${r.blobsKept} in use again, ${r.heldBack} held back by the grace window`;
}

function bar(done: number, total: number, width = 24): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const run = defineCliCommand({
  usage: 'run',
  description: 'collect garbage: queue a run for the servers, or with --wait run it here and show progress',
  options: [
    { flags: '--dry-run', description: 'only count what would go and the bytes it would free' },
    { flags: '--wait', description: 'run it in this process and wait for the end, with progress' },
    { flags: '--delete-untagged', description: 'also delete untagged artifacts' },
    { flags: '--grace-minutes <minutes>', description: 'grace window (default: extensions.gc.graceWindowMinutes)' },
    { flags: '--workers <n>', description: 'deletion batches in flight at once' },
    json,
  ],
  deps,
  async run({ gc }, call) {
    const int = (name: string, max: number): number | undefined => {
      const v = call.options[name];
      if (v === undefined || v === false) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > max) throw new CliRefusal('BAD_REQUEST', `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be an integer from 0 to ${max}`);
      return n;
    };
    const workers = int('workers', 16);
    if (workers === 0) throw new CliRefusal('BAD_REQUEST', '--workers must be at least 1');
    const options = {
      dryRun: call.options['dryRun'] === true,
      ...(call.options['deleteUntagged'] === true ? { deleteUntagged: true } : {}),
      ...(int('graceMinutes', 525_600) !== undefined ? { graceWindowMinutes: int('graceMinutes', 525_600)! } : {}),
      ...(workers !== undefined ? { workers } : {}),
    };
    if (call.options['wait'] !== true) {
      const queued = await gc.request({ trigger: 'cli', requestedBy: 'wharf-cli', options });
      call.stdout(call.options['json'] === true ? JSON.stringify(runView(queued), null, 2) : `garbage collection ${queued.id} queued (follow it with: wharf gc status ${queued.id})`);
      return 0;
    }
    return runHere(gc, options, call);
  },
});

async function runHere(gc: GcService, options: Parameters<GcService['request']>[0]['options'], call: CliCall): Promise<number> {
  const record = await gc.store.create({ trigger: 'cli', requestedBy: 'wharf-cli', options: { ...gcOptions(gc, options) } });
  let lastLine = 0;
  const show = (c: RunCounts & { phase: string }) => {
    const now = Date.now();
    if (c.phase !== 'done' && (call.terminal ? now - lastLine < 100 : now - lastLine < 5000)) return;
    lastLine = now;
    const line = `${c.phase.padEnd(8)} ${bar(c.blobsDeleted + c.blobsKept, c.candidates)} ${c.blobsDeleted} deleted of ${c.candidates} marked, ${bytes(c.bytesFreed)}`;
    if (call.progress) call.progress(line);
    else call.stderr(line);
  };
  const deadline = Date.now() + 10 * 60_000;
  while (!(await gc.collector.run(record.id, undefined, show))) {
    if (Date.now() > deadline) throw new CliRefusal('CONFLICT', 'another garbage collection held the lock for 10 minutes');
    call.stderr('another garbage collection is running; waiting for it');
    await new Promise((r) => setTimeout(r, 5000));
  }
  const done = (await gc.store.get(record.id))!;
  if (call.options['json'] === true) call.stdout(JSON.stringify(runView(done), null, 2));
  else call.stdout(`garbage collection ${done.id} ${done.status}: ${summary(done)}${done.error ? ` (${done.error})` : ''}`);
  return done.status === 'succeeded' ? 0 : 1;
}

const gcOptions = (gc: GcService, given: Parameters<GcService['request']>[0]['options']) => ({
  dryRun: given?.dryRun ?? false,
  deleteUntagged: given?.deleteUntagged ?? gc.config.deleteUntagged,
  untaggedOlderThanDays: given?.untaggedOlderThanDays ?? gc.config.untaggedOlderThanDays,
  workers: given?.workers ?? gc.config.workers,
  graceWindowMinutes: given?.graceWindowMinutes ?? gc.config.graceWindowMinutes,
});

const status = defineCliCommand({
  usage: 'status [id]',
  description: 'one collection (default: the latest): status, progress, what it freed, and its log',
  options: [json],
  deps,
  async run({ gc }, { args: [id], options, stdout }) {
    let record: RunRecord | undefined;
    if (id === undefined) record = (await gc.store.list(1, 1)).items[0];
    else {
      if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new CliRefusal('BAD_REQUEST', `"${id}" is not a collection id`);
      record = await gc.store.get(Number(id));
    }
    if (!record) throw new CliRefusal('NOT_FOUND', id === undefined ? 'no garbage collection has run yet' : `no garbage collection ${id}`);
    const log = await gc.store.logs(record.id);
    if (options['json'] === true) {
      stdout(JSON.stringify({ ...runView(record), log: log.map((l) => ({ at: l.at.toISOString(), message: l.message })) }, null, 2));
      return 0;
    }
    stdout(`garbage collection ${record.id}: ${record.status}${record.phase ? ` (${record.phase})` : ''}${record.options.dryRun ? ', dry run' : ''}`);
    stdout(summary(record));
    if (record.error) stdout(`error: ${record.error}`);
    for (const l of log) stdout(`${l.at.toISOString()} ${l.message}`);
    return 0;
  },
});

const history = defineCliCommand({
  usage: 'history',
  description: 'past collections, newest first: status, dry run, blobs deleted, bytes freed',
  options: [json, { flags: '--limit <n>', description: 'how many (default 20, at most 1000)' }],
  deps,
  async run({ gc }, { options, stdout }) {
    const limit = options['limit'] === undefined ? 20 : Number(options['limit']);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliRefusal('BAD_REQUEST', '--limit must be an integer from 1 to 1000');
    const { items } = await gc.store.list(1, limit);
    if (options['json'] === true) {
      stdout(JSON.stringify(items.map(runView), null, 2));
      return 0;
    }
    stdout(
      formatTable(
        ['ID', 'STATUS', 'DRY RUN', 'TRIGGER', 'BLOBS', 'FREED', 'REQUESTED'],
        items.map((r) => [String(r.id), r.status, r.options.dryRun ? 'yes' : 'no', r.trigger, `${r.blobsDeleted}/${r.candidates}`, bytes(r.bytesFreed), r.requestedAt.toISOString()]),
      ),
    );
    return 0;
  },
});

/** `wharf gc ...`, contributed by the plugin. */
export const gcCommands: readonly CliCommandGroup[] = Object.freeze([{ name: 'gc', description: 'garbage collection: run, status, history (extensions: { gc: {} })', commands: [run, status, history] }]);
