import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { registryTest } from '../helpers/e2e.js';
import { sha256 } from '../helpers/hash.js';
import { createEndpoint, createPolicy, listExecutions, listTasks, runPolicy, waitForExecution, type ExecutionView, type TaskView } from '../helpers/replication.js';
import { describeRun, runOk, stdoutJson } from '../helpers/run.js';
import { repoRoot, startReference, type RegistryHandle } from '../helpers/server.js';
import { api } from '../helpers/wharf-api.js';
import { useE2eSandbox } from '../helpers/sandbox.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

// Scheduled pull replication from docker-registry into Wharf, with tag filters; then the CLI
// reads the history the schedule left.

let single: { layout: OciLayout; image: BuiltImage };
let other: { layout: OciLayout; image: BuiltImage };
let upstream: RegistryHandle | undefined;

const sandbox = useE2eSandbox('replication-pull', async (s) => {
  single = await singleImageLayout(join(s.work, 'single'));
  other = await singleImageLayout(join(s.work, 'other'), 'v2');
});
const srv = sandbox.srv;

before(async () => {
  upstream = await startReference();
});

after(async () => {
  await upstream?.stop();
});

const up = (): RegistryHandle => {
  assert.ok(upstream, 'docker-registry not started');
  return upstream;
};

registryTest('a scheduled pull policy copies the matching tags from docker-registry, once per tick, and the CLI lists it', srv, async () => {
  for (const tag of ['1.0', '2.1', 'dev']) {
    await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${up().host}/lib/app:${tag}`]);
  }
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', other.layout.ref('v2'), `docker://${up().host}/lib/other:1.0`]);

  await createEndpoint(srv(), 'upstream', up().url);
  const policy = await createPolicy(srv(), {
    name: 'pull-sched', mode: 'pull', endpoint: 'upstream', trigger: 'scheduled', cron: '*/2 * * * * *',
    destinationNamespace: 'e2e', flatten: 'none',
    filters: {
      repositories: [{ kind: 'glob', pattern: 'lib/*', decision: 'include' }, { kind: 'glob', pattern: 'lib/other', decision: 'exclude' }],
      tags: [{ kind: 'glob', pattern: '{1,2}.*', decision: 'include' }],
    },
  });

  // The schedule fires by itself; wait for a run that finished.
  let done: ExecutionView | undefined;
  const deadline = Date.now() + 30_000;
  while (!done) {
    done = (await listExecutions(srv(), policy.id)).find((e) => e.status === 'succeeded');
    if (!done) {
      assert.ok(Date.now() < deadline, `no scheduled execution succeeded: ${JSON.stringify(await listExecutions(srv(), policy.id))}`);
      await sleep(250);
    }
  }
  assert.equal(done.trigger, 'scheduled');
  assert.equal(done.tasks.total, 2, JSON.stringify(done));

  for (const tag of ['1.0', '2.1']) {
    const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', `docker://${srv().host}/e2e/lib/app:${tag}`]);
    assert.equal(sha256(raw.stdout), single.image.manifest.digest, describeRun(raw));
  }
  const tags = stdoutJson<{ Tags: string[] }>(await sandbox.clients.skopeoOk(['list-tags', '--tls-verify=false', `docker://${srv().host}/e2e/lib/app`]));
  assert.deepEqual(tags.Tags.sort(), ['1.0', '2.1']);
  const excluded = await sandbox.clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${srv().host}/e2e/lib/other:1.0`]);
  assert.notEqual(excluded.code, 0, 'lib/other is excluded by the repository filter');

  // Disabled, the schedule stops: no execution starts any more.
  const body = (await api(srv(), 'GET', `/replication/policies/${policy.id}`, undefined, { expect: 200 })).json as Record<string, unknown>;
  const { id: _id, createdAt: _c, updatedAt: _u, ...editable } = body;
  await api(srv(), 'PUT', `/replication/policies/${policy.id}`, { ...editable, enabled: false }, { expect: 200 });
  await sleep(1000);
  const settled = (await listExecutions(srv(), policy.id)).length;
  await sleep(4500);
  assert.equal((await listExecutions(srv(), policy.id)).length, settled, 'a disabled policy still runs');

  // Every execution came from the schedule (nothing else triggers this policy).
  const all = await listExecutions(srv(), policy.id);
  assert.ok(all.every((e) => e.trigger === 'scheduled'), JSON.stringify(all));

  // The CLI reads the same history from the database.
  const cli = (args: string[]) => runOk(process.execPath, [join(repoRoot, 'server/bin/wharf.js'), 'replication', ...args, '--data-dir', srv().dataDir, '--json'], { timeoutMs: 60_000 });
  const listed = stdoutJson<ExecutionView[]>(await cli(['executions', '--policy', 'pull-sched']));
  assert.deepEqual(listed.map((e) => e.id), all.map((e) => e.id));
  const tasks = stdoutJson<TaskView[]>(await cli(['tasks', String(done.id)]));
  assert.deepEqual(tasks.map((t) => [t.source, t.destination, t.status]).sort(), [
    ['lib/app:1.0', 'e2e/lib/app:1.0', 'succeeded'],
    ['lib/app:2.1', 'e2e/lib/app:2.1', 'succeeded'],
  ]);
  assert.deepEqual(tasks.map((t) => t.id).sort(), (await listTasks(srv(), done.id)).map((t) => t.id).sort());
  const missing = await runOk(process.execPath, [join(repoRoot, 'server/bin/wharf.js'), 'replication', 'run', 'no-such-policy', '--data-dir', srv().dataDir]).catch((e: Error) => e);
  assert.ok(missing instanceof Error && /replication policy no-such-policy not found/.test(missing.message), String(missing));
});

registryTest('a pull without a destination namespace creates the missing project, private, owned by the policy creator', srv, async () => {
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${up().host}/pulledproj/app:1.0`]);
  await createEndpoint(srv(), 'upstream-projects', up().url);
  const policy = await createPolicy(srv(), {
    name: 'pull-into-new-project', mode: 'pull', endpoint: 'upstream-projects', trigger: 'manual',
    filters: { repositories: [{ kind: 'glob', pattern: 'pulledproj/*', decision: 'include' }], tags: [] },
  });
  await api(srv(), 'GET', '/projects/pulledproj', undefined, { expect: 404 });
  const execution = await waitForExecution(srv(), await runPolicy(srv(), policy.id));
  assert.equal(execution.status, 'succeeded', JSON.stringify(execution));
  const project = (await api(srv(), 'GET', '/projects/pulledproj', undefined, { expect: 200 })).json as { public: boolean; owner: string | null };
  assert.deepEqual([project.public, project.owner], [false, srv().admin?.username]);
  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', '--creds', `${srv().admin!.username}:${srv().admin!.password}`, `docker://${srv().host}/pulledproj/app:1.0`]);
  assert.equal(sha256(raw.stdout), single.image.manifest.digest, describeRun(raw));
});
