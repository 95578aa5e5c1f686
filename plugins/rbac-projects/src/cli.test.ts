import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runCommand, startTestRegistry } from '@wharf/sdk-testing';
import { parseRobotAccess } from './cli.js';

/**
 * `wharf project create|list` and `wharf robot create|list|delete`: the built binary as a child
 * process on a real SQLite file; a robot it creates then logs in to a real server.
 */

/** The `wharf` binary of the distribution, which ships this plugin and its commands. */
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');

async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const made = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir: made, cleanup: () => rm(made, { recursive: true, force: true }) };
}
let dir: string;
let cleanup: () => Promise<void>;

const wharf = (args: string[]) => runCommand(process.execPath, [BIN, ...args, '--config', 'wharf.yaml'], { cwd: dir, env: { WHARF_ADMIN_PASSWORD: 'Cli-Admin-Passw0rd' } });

describe('wharf project and robot', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-cli-projects-'));
    await writeFile(path.join(dir, 'wharf.yaml'), 'dataDir: ./data\nauth: [ { db: {} } ]\nrbac: { projects: {} }\ntoken: { enabled: true }\n');
    // The project commands work on an existing registry only (`wharf migrate` or `serve` create one).
    const migrated = await wharf(['migrate']);
    assert.equal(migrated.code, 0, migrated.stderr);
  });
  after(() => cleanup());

  it('creates and lists projects; the default library project is there', async () => {
    const created = await wharf(['project', 'create', 'team']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /project team created \(private, owner admin\)/);
    const open = await wharf(['project', 'create', 'open-source', '--public', '--owner', 'alice']);
    assert.equal(open.code, 0, open.stderr);
    assert.match(open.stdout, /project open-source created \(public, owner alice\)/);
    const badOwner = await wharf(['project', 'create', 'x1', '--owner', 'Not A User']);
    assert.equal(badOwner.code, 1);
    assert.match(badOwner.stderr, /^error PROJECT_OWNER_INVALID: --owner "Not A User" is not a user name$/m);
    const dup = await wharf(['project', 'create', 'team']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^error PROJECT_EXISTS: project "team" already exists/m);
    const bad = await wharf(['project', 'create', 'Bad+Name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /PROJECT_NAME_INVALID/);
    const list = await wharf(['project', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const names = (JSON.parse(list.stdout) as { name: string; public: boolean; owner: string | null }[]).map((p) => `${p.name}:${p.public}:${p.owner}`);
    // A project the CLI creates has an owner (the administrator by default); only the default
    // project, created by the plugin itself, has none.
    assert.deepEqual(names, ['library:true:null', 'open-source:true:alice', 'team:false:admin']);
  });

  it('creates a robot whose secret logs in, lists and deletes it', async () => {
    const created = await wharf(['robot', 'create', 'ci', '--project', 'team', '--access', 'push', '--days', '7', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { name, secret, expiresAt } = JSON.parse(created.stdout) as { name: string; secret: string; expiresAt: string };
    assert.equal(name, 'robot$team+ci');
    assert.ok(secret.length >= 32);
    const days = (Date.parse(expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, String(days));

    const listed = await wharf(['robot', 'list', '--project', 'team']);
    assert.match(listed.stdout, /robot\$team\+ci\s+team:pull,push\s/);
    assert.doesNotMatch(listed.stdout, new RegExp(secret));

    const server = await startTestRegistry({ dataDir: path.join(dir, 'data'), config: { auth: [{ db: {} }], rbac: { projects: {} }, token: { enabled: true } } });
    try {
      const auth = (s: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${s}`).toString('base64')}` });
      assert.equal((await fetch(`${server.url}/v2/team/app/tags/list`, { headers: auth(secret) })).status, 404, 'allowed: the repository is just empty');
      assert.equal((await fetch(`${server.url}/v2/team/app/tags/list`, { headers: auth('wrong') })).status, 401);
      // The owner `project create --owner` recorded is the project's admin, as through the API.
      const admin = { authorization: `Basic ${Buffer.from('admin:Cli-Admin-Passw0rd').toString('base64')}` };
      const members = (await (await fetch(`${server.url}/api/v1/projects/open-source/members`, { headers: admin })).json()) as { name: string; roleName: string }[];
      assert.deepEqual(members.map((m) => `${m.name}:${m.roleName}`), ['alice:projectAdmin']);
    } finally {
      await server.close();
    }

    const system = await wharf(['robot', 'create', 'mirror', '--projects', '*', '--days', '-1']);
    assert.equal(system.code, 0, system.stderr);
    assert.match(system.stdout, /robot robot\$mirror created; expires never/);
    assert.match(system.stdout, /secret \(shown once\): \S{32,}/);

    assert.equal((await wharf(['robot', 'delete', name])).code, 0);
    const gone = await wharf(['robot', 'delete', name]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ROBOT_UNKNOWN/);
    const missingProject = await wharf(['robot', 'create', 'x', '--project', 'nope']);
    assert.equal(missingProject.code, 1);
    assert.match(missingProject.stderr, /PROJECT_UNKNOWN/);
  });

  it('parses robot access lists (push implies pull)', () => {
    assert.deepEqual(parseRobotAccess('push').map((a) => a.action), ['pull', 'push']);
    assert.deepEqual(parseRobotAccess('delete, pull').map((a) => a.action), ['pull', 'delete']);
    assert.throws(() => parseRobotAccess('pull,admin'), /unknown action "admin"/);
  });
});
