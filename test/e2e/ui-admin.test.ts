import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, selectedDatabases, type TestDatabase } from '@wharf/sdk-testing';
import type { Locator, Page } from 'playwright-core';
import { singleImageLayout } from '../fixtures/images.js';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { basicAuth, startReference, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';

/**
 * The administration screens in a real Chromium against a real `wharf serve` and Debian's
 * docker-registry as a replication peer, on SQLite and PostgreSQL: as admin, create a user and
 * an LDAP group; add the docker-registry as an endpoint after testing the connection (and
 * seeing a wrong URL fail); create a push policy for a project holding an image pushed with
 * skopeo, start it and watch the execution succeed with its task log (the image then is on the
 * docker-registry); a GC dry run in the history; the system audit log listing what the test did,
 * filtered in the URL and exported; system info and event consumers; then a user who is not an
 * administrator sees no Administration and gets "not allowed" at its URL. axe-core and a
 * screenshot on every screen.
 */

const databases = selectedDatabases().filter((d) => d !== 'mysql');
const USER = { username: 'dora', password: 'Dora-Passw0rd-1' };
const NEW_PASSWORD = 'Dora-Passw0rd-2';

/** Clicks `refresh` until `target` shows up (entries that arrive through the event bus). */
async function eventually(target: Locator, refresh: () => Promise<unknown>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await target.count()) > 0) return;
    if (Date.now() > deadline) return target.first().waitFor({ timeout: 1 });
    await refresh();
    await new Promise((r) => setTimeout(r, 300));
  }
}

for (const dbName of databases) describe(dbName, () => {
  let server: RegistryHandle;
  let peer: RegistryHandle;
  let session: BrowserSession;
  let page: Page;
  let sandbox: ClientSandbox;
  let work: string;
  let db: TestDatabase;
  const prefix = dbName === 'sqlite' ? '' : `${dbName}-`;

  before(async () => {
    db = await createTestDatabase(dbName);
    [server, peer] = await Promise.all([startWharf({ config: { database: db.config } }), startReference()]);
    session = await openBrowser(server, { shotPrefix: prefix });
    page = session.page;
    work = await makeTempDir('ui-admin');
    sandbox = await createClientSandbox();
    const created = await fetch(`${server.url}/api/v1/projects`, {
      method: 'POST',
      headers: { authorization: basicAuth(server.admin!), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'shipyard' }),
    });
    assert.equal(created.status, 201);
    const single = await singleImageLayout(join(work, 'single'));
    await sandbox.login(server.host, server.admin!);
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${server.host}/shipyard/app:v1`]);
  });

  after(async () => {
    await session?.close();
    await server?.stop();
    await peer?.stop();
    await sandbox?.cleanup();
    if (work) await removeDir(work);
    await db?.drop();
  });

  const screen = async (name: string) => {
    await session.assertAccessible(name);
    await session.shot(name);
  };

  it('creates a user and an LDAP group', async () => {
    await session.login(server.admin!.username, server.admin!.password);
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('rowheader', { name: 'admin' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Delete user admin' }).count(), 0, 'no deleting yourself');

    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByLabel('Username').fill(USER.username);
    await dialog.getByLabel('Password').fill(USER.password);
    await session.assertAccessible('new user');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: `User ${USER.username} created.` }).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: USER.username }) });
    await row.getByRole('button', { name: `Make ${USER.username} a system administrator` }).click();
    await page.getByRole('status').filter({ hasText: `${USER.username} is now a system administrator.` }).waitFor();
    await row.getByRole('button', { name: `Revoke system administrator from ${USER.username}` }).click();
    await page.getByRole('status').filter({ hasText: `${USER.username} is no longer a system administrator.` }).waitFor();
    await row.getByRole('button', { name: `Set a new password for ${USER.username}` }).click();
    const reset = page.getByRole('dialog', { name: `New password for ${USER.username}` });
    await reset.getByLabel('New password').fill(NEW_PASSWORD);
    await reset.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: `The password of ${USER.username} was changed.` }).waitFor();
    await page.getByLabel('Search users').fill('dor');
    await page.waitForURL(/name=dor/);
    // The search filters on the server: admin goes, dora stays.
    await page.getByRole('rowheader', { name: 'admin', exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('rowheader', { name: USER.username }).waitFor();
    await page.getByRole('link', { name: 'Sort by Username' }).click();
    await page.waitForURL(/sort=-username/);
    await screen('admin-users');

    await page.getByRole('navigation', { name: 'Administration sections' }).getByRole('link', { name: 'User groups' }).click();
    await page.getByText('No user groups yet.').waitFor();
    await page.getByRole('button', { name: 'New group' }).click();
    const group = page.getByRole('dialog', { name: 'New group' });
    await group.getByLabel('Name', { exact: true }).fill('developers');
    await group.getByLabel('Type').selectOption('ldap');
    await group.getByLabel('LDAP group DN / external id').fill('cn=developers,ou=groups,dc=example,dc=org');
    await group.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Group developers created.' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'cn=developers,ou=groups,dc=example,dc=org' }).waitFor();
    await page.getByRole('button', { name: 'Delete group developers' }).click();
    await page.getByRole('dialog', { name: 'Delete group developers?' }).getByText('The group developers will be deleted').waitFor();
    await session.assertAccessible('delete group confirmation');
    await page.getByRole('dialog', { name: 'Delete group developers?' }).getByRole('button', { name: 'Cancel' }).click();
    await screen('admin-groups');
  });

  it('adds the docker-registry after testing the connection, and a wrong URL fails clearly', async () => {
    await page.goto(`${server.url}/admin/registries`);
    await page.getByText('No registry endpoints yet.').waitFor();
    await page.getByRole('button', { name: 'New registry endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'New registry endpoint' });
    await dialog.getByLabel('Name', { exact: true }).fill('mirror');
    await dialog.getByLabel('URL', { exact: true }).fill(peer.url);
    await dialog.getByRole('button', { name: 'Test connection' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Connection to mirror works' }).waitFor();
    await dialog.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:9');
    await dialog.getByRole('button', { name: 'Test connection' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Connection to mirror failed:' }).waitFor();
    await session.assertAccessible('registry form, failed test');
    await dialog.getByLabel('URL', { exact: true }).fill(peer.url);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Registry mirror added.' }).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'mirror' }) });
    await row.getByText(peer.url).waitFor();
    await row.getByRole('button', { name: 'Test the connection to mirror' }).click();
    await page.getByRole('status').filter({ hasText: 'Connection to mirror works' }).waitFor();
    await screen('admin-registries');
  });

  it('creates a push policy, starts it and watches the execution succeed with its task log', async () => {
    await page.goto(`${server.url}/admin/replication`);
    await page.getByText('No replication policies yet.').waitFor();
    await page.getByRole('button', { name: 'New policy' }).click();
    const dialog = page.getByRole('dialog', { name: 'New policy' });
    await dialog.getByLabel('Name', { exact: true }).fill('to-mirror');
    await dialog.getByLabel('Registry').selectOption('mirror');
    await dialog.getByLabel('Repositories').fill('shipyard/**');
    await session.assertAccessible('new policy');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Policy to-mirror created.' }).waitFor();
    // Disabling, enabling and editing send the stored policy back whole: its filter survives.
    await page.getByRole('button', { name: 'Disable policy to-mirror' }).click();
    await page.getByRole('status').filter({ hasText: 'Policy to-mirror disabled.' }).waitFor();
    await page.getByRole('button', { name: 'Enable policy to-mirror' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Replicate to-mirror now' }).count(), 0, 'a disabled policy is not offered a run');
    await page.getByRole('button', { name: 'Enable policy to-mirror' }).click();
    await page.getByRole('status').filter({ hasText: 'Policy to-mirror enabled.' }).waitFor();
    await page.getByRole('button', { name: 'Edit to-mirror' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit policy to-mirror' });
    assert.equal(await edit.getByLabel('Repositories').inputValue(), 'shipyard/**');
    await edit.getByLabel('Tags', { exact: true }).fill('v*');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Policy to-mirror saved.' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'shipyard/**' }).getByText('tags v*').waitFor();
    await screen('admin-replication');

    await page.getByRole('button', { name: 'Replicate to-mirror now' }).click();
    await page.waitForURL(/\/admin\/replication\/executions\/\d+$/);
    await page.locator('dd .badge', { hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    const task = page.getByRole('row').filter({ hasText: 'shipyard/app:v1' }).first();
    await task.getByText('Succeeded').waitFor();
    await task.getByRole('button', { name: 'Show the log of shipyard/app:v1' }).click();
    const log = page.getByLabel('Log of shipyard/app:v1', { exact: true });
    await log.waitFor();
    assert.match(await log.innerText(), /put shipyard\/app:v1/);
    assert.equal(await page.getByText('(updating every 2 seconds)').count(), 0, 'polling stops once the execution is done');
    await screen('admin-execution');
    await sandbox.skopeoOk(['inspect', '--raw', '--tls-verify=false', `docker://${peer.host}/shipyard/app:v1`]);

    await page.getByRole('link', { name: 'Executions', exact: true }).click();
    await page.getByRole('row').filter({ hasText: 'to-mirror' }).getByText('Succeeded').waitFor();
    await screen('admin-executions');

    // An endpoint a policy uses is not deleted: the confirmation names it and shows the refusal.
    await page.goto(`${server.url}/admin/registries`);
    await page.getByRole('button', { name: 'Delete registry mirror' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete registry mirror?' });
    await confirm.getByText('The registry endpoint mirror and its stored credentials will be deleted.').waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.getByRole('alert').waitFor();
    await session.assertAccessible('delete registry refused');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('rowheader', { name: 'mirror' }).waitFor();
  });

  it('shows a failed execution with its error, and resumes it', async () => {
    // Pushing anonymously to this Wharf itself is refused at once (a refusal is not retried).
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${server.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: basicAuth(server.admin!), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.text());
    };
    await post('/registries', { name: 'self-anonymous', url: server.url });
    await post('/replication/policies', {
      name: 'refused', mode: 'push', endpoint: 'self-anonymous', trigger: 'manual',
      filters: { repositories: [{ kind: 'glob', pattern: 'shipyard/**', decision: 'include' }], tags: [] },
    });
    await page.goto(`${server.url}/admin/replication?name=refused`);
    await page.getByRole('button', { name: 'Replicate refused now' }).click();
    await page.waitForURL(/\/admin\/replication\/executions\/\d+$/);
    await page.locator('dd .badge', { hasText: 'Failed' }).waitFor({ timeout: 30_000 });
    const task = page.getByRole('row').filter({ hasText: 'shipyard/app:v1' }).first();
    await task.locator('.state.error').waitFor();
    await page.getByLabel('Status').and(page.locator('select')).selectOption('failed');
    await page.waitForURL(/status=failed/);
    await task.waitFor();
    await screen('admin-execution-failed');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('status').filter({ hasText: /Execution \d+ resumed\./ }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).waitFor({ timeout: 30_000 });
  });

  it('runs a GC dry run and shows it in the history', async () => {
    await page.goto(`${server.url}/admin/gc`);
    await page.getByText('No collections yet.').waitFor();
    assert.equal(await page.getByLabel('Dry run: only count what would be freed').isChecked(), true, 'a dry run by default');
    await page.getByRole('button', { name: 'Start a dry run' }).click();
    const started = page.getByRole('status').filter({ hasText: /Dry run \d+ started\./ });
    await started.waitFor();
    const id = /Dry run (\d+)/.exec(await started.innerText())?.[1];
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: `Run ${id}` }) });
    await row.getByText('Succeeded').waitFor({ timeout: 30_000 });
    await row.getByText('Dry run').waitFor();
    await row.getByRole('button', { name: `Show the log of run ${id}` }).click();
    await page.getByLabel(`Log of run ${id}`, { exact: true }).waitFor();
    await page.getByText('No schedule: collections run on demand only.').waitFor();
    await page.getByLabel('Cron (UTC)').fill('0 3 * * 6');
    await page.getByRole('button', { name: 'Set schedule' }).click();
    await page.getByText('Runs on the schedule 0 3 * * 6 (UTC).').waitFor();
    await page.getByText('(set by admin').waitFor();
    await screen('admin-gc');
    await page.getByRole('button', { name: 'Run on demand only' }).click();
    await page.getByText('No schedule: collections run on demand only.').waitFor();
  });

  it('shows the system audit log with what the test did, filtered in the URL and exported', async () => {
    await page.goto(`${server.url}/admin/audit`);
    const refresh = () => page.getByRole('button', { name: 'Refresh' }).click();
    // The user group's entry names it by id; the others by name.
    for (const resource of [USER.username, 'User group', 'mirror', 'to-mirror']) {
      await eventually(page.getByRole('row').filter({ hasText: resource }).filter({ hasText: 'Create' }), refresh);
    }
    await page.getByLabel('Resource type').selectOption('registry');
    await page.waitForURL(/resource_type=registry/);
    // Filtered to registries: the policy's entry goes, the endpoint's stays.
    await page.getByRole('row').filter({ hasText: 'to-mirror' }).first().waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: 'mirror' }).first().waitFor();
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.ok(href?.includes('resource_type=registry') && href.includes('format=csv'), href ?? '');
    const csv = await page.request.get(`${server.url}${href}`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /mirror/);
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'mirror' }).first().waitFor();
    assert.equal(await page.getByLabel('Resource type').inputValue(), 'registry', 'the filter survives a reload');
    await page.getByRole('button', { name: 'Count what a purge would delete' }).click();
    await page.getByRole('status').filter({ hasText: /Dry-run purge \d+ started/ }).waitFor();
    await page.getByRole('row').filter({ hasText: 'would go' }).waitFor({ timeout: 15_000 });
    await screen('admin-audit');
  });

  it('shows system info and the event consumers', async () => {
    await page.goto(`${server.url}/admin/system`);
    await page.getByText(server.host).first().waitFor();
    await page.getByRole('heading', { name: 'Event consumers' }).waitFor();
    // The audit log is one of the durable consumers, caught up with nothing dead.
    const audit = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'audit-log' }) });
    await audit.getByText('Caught up').waitFor();
    assert.equal(await audit.getByRole('button', { name: /Retry/ }).count(), 0, 'nothing dead to retry');
    await page.getByLabel('Only stuck ones').check();
    await page.waitForURL(/stuck=1/);
    await page.getByText('No consumer matches.').waitFor();
    await page.getByLabel('Only stuck ones').uncheck();
    await screen('admin-system');
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('heading', { name: '事件消费者' }).waitFor();
    await page.getByRole('link', { name: '垃圾回收' }).waitFor();
    await screen('admin-system-zh');
    await page.getByLabel('语言').selectOption('en');
  });

  it('offers no Administration to a user who is not an administrator', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    // The logout request must finish before the next page load, or the old session comes back.
    await page.getByRole('heading', { name: 'Log in to Wharf' }).waitFor();
    // The password the administrator set above.
    await session.login(USER.username, NEW_PASSWORD);
    assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0);
    await page.goto(`${server.url}/admin/users`);
    await page.getByRole('alert').filter({ hasText: 'You are not allowed to see this.' }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Administration sections' }).count(), 0);
    await screen('admin-forbidden');
  });
});
