import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, selectedDatabases, type TestDatabase } from '@wharf/sdk-testing';
import type { Page } from 'playwright-core';
import { multiPlatformLayout, singleImageLayout } from '../fixtures/images.js';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { basicAuth, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';

/**
 * The web UI in a real Chromium (Debian's, driven by playwright-core) against a real `wharf
 * serve` (default config: the UI is on), on SQLite and on PostgreSQL (`WHARF_TEST_DATABASES`). One browser and one page, walked through the
 * screens in order: login (a wrong password, then admin), projects (create, search in the URL,
 * delete with a confirmation naming the project), an image pushed with skopeo seen with its tags
 * and platforms and its copyable pull commands, Chinese (remembered across a reload), a user
 * without rights who is not offered a delete, an ended session sending the page back to login.
 * On each screen axe-core must find no serious or critical violation, and the page must log no
 * CSP violation. Screenshots go to test/screenshots/ (not committed).
 */

// MySQL runs the same plugin code as PostgreSQL; its sessions and serving are tested in plugins/ui.
const databases = selectedDatabases().filter((d) => d !== 'mysql');

for (const dbName of databases) describe(dbName, () => {
  let server: RegistryHandle;
  let session: BrowserSession;
  let page: Page;
  let sandbox: ClientSandbox;
  let work: string;
  let db: TestDatabase;


  before(async () => {
    db = await createTestDatabase(dbName);
    server = await startWharf({ config: { database: db.config } });
    session = await openBrowser(server, { shotPrefix: dbName === 'sqlite' ? '' : `${dbName}-` });
    page = session.page;
    work = await makeTempDir('ui-browser');
    sandbox = await createClientSandbox();
  });

  after(async () => {
    await session?.close();
    await server?.stop();
    await sandbox?.cleanup();
    if (work) await removeDir(work);
    await db?.drop();
  });

  const assertAccessible = (screen: string) => session.assertAccessible(screen);
  const shot = (name: string) => session.shot(name);
  const admin = () => server.admin!;

  it('shows a login page, refuses a wrong password, and logs the administrator in', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Log in to Wharf' }).waitFor();
    await assertAccessible('login');
    await shot('login');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await page.getByLabel('Password').fill(admin().password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByRole('link', { name: 'library' }).waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'wharf_session');
    assert.ok(session?.httpOnly && session.sameSite === 'Strict', 'an HttpOnly, SameSite=Strict session cookie');
    const stored = (await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie')) as string;
    assert.ok(!stored.includes(session.value) && !/csrf|token/i.test(stored), `no session or token in web storage: ${stored}`);
    await assertAccessible('projects');
  });

  it('creates a public project, keeps the search in the URL, deletes a project after naming it', async () => {
    for (const name of ['webapp', 'scratch']) {
      await page.getByRole('button', { name: 'New project' }).click();
      const dialog = page.getByRole('dialog', { name: 'New project' });
      await dialog.getByLabel('Project name').fill(name);
      if (name === 'webapp') await dialog.getByLabel(/Public/).check();
      if (name === 'webapp') await dialog.getByLabel('Storage quota (optional)').fill('10 MiB');
      if (name === 'webapp') await assertAccessible('create project');
      await dialog.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('status').filter({ hasText: `Project ${name} created.` }).waitFor();
    }
    const quota = await fetch(`${server.url}/api/v1/projects/webapp/quota`, { headers: { authorization: basicAuth(admin()) } });
    assert.equal(((await quota.json()) as { hard: { storage: number } }).hard.storage, 10 * 1024 * 1024, 'the quota set in the create dialog');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'webapp' }) });
    await row.getByText('Public').waitFor();

    await page.getByLabel('Search projects').fill('web');
    await page.waitForURL(/\?name=web$/);
    await page.reload();
    await page.getByRole('link', { name: 'webapp' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'library' }).count(), 0, 'the filter survives a reload');
    assert.equal(await page.getByLabel('Search projects').inputValue(), 'web');

    await page.goto(`${server.url}/projects?name=scratch`);
    await page.getByRole('button', { name: 'Delete project scratch' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete project scratch?' });
    await confirm.getByText('The project scratch will be deleted.').waitFor();
    await assertAccessible('delete confirmation');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: 'Project scratch deleted.' }).waitFor();
    await page.getByText('No project matches “scratch”.').waitFor();
    await page.goto(`${server.url}/projects`);
    await page.getByRole('link', { name: 'webapp' }).waitFor();
    await shot('projects');
  });

  it('shows an image pushed with skopeo: repositories, then tags first with platforms and copyable pull commands', async () => {
    await page.goto(`${server.url}/projects/webapp`);
    await page.getByText('No repositories in this project yet.').waitFor();
    await page.goto(`${server.url}/projects/no-such-project`);
    await page.getByRole('alert').filter({ hasText: 'Not found.' }).waitFor();
    await page.goto(`${server.url}/projects`);
    const single = await singleImageLayout(join(work, 'single'));
    const multi = await multiPlatformLayout(join(work, 'multi'));
    await sandbox.login(server.host, admin());
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${server.host}/webapp/hello:v1`]);
    await sandbox.skopeoOk(['copy', '--all', '--dest-tls-verify=false', multi.layout.ref('multi'), `docker://${server.host}/webapp/multi:v1`]);
    await sandbox.skopeoOk(['copy', '--all', '--dest-tls-verify=false', multi.layout.ref('multi'), `docker://${server.host}/webapp/multi:latest`]);

    await page.getByRole('link', { name: 'webapp' }).click();
    await page.getByRole('heading', { name: 'webapp' }).waitFor();
    await page.getByRole('link', { name: 'hello' }).waitFor();
    await assertAccessible('repositories');
    await page.getByRole('link', { name: 'multi' }).click();
    await page.getByRole('heading', { name: 'webapp/multi' }).waitFor();
    const v1 = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'v1' }) });
    await v1.getByText('linux/amd64, linux/arm64/v8').waitFor();
    assert.equal(await page.getByRole('rowheader', { name: 'latest' }).count(), 1, 'one row per tag');
    assert.equal(await page.getByRole('heading', { name: 'Untagged artifacts' }).count(), 0, 'platform manifests are platforms, not untagged rows');
    await v1.getByRole('button', { name: 'Copy podman pull command for tag v1' }).click();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), `podman pull ${server.host}/webapp/multi:v1`);
    await v1.getByRole('button', { name: 'Copy docker pull command by digest' }).click();
    assert.match(await page.evaluate('navigator.clipboard.readText()'), new RegExp(`^docker pull ${server.host}/webapp/multi@sha256:[0-9a-f]{64}$`));
    await assertAccessible('repository');
    await shot('repository');
  });

  it('switches to Simplified Chinese, formats per locale, and remembers the choice', async () => {
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('heading', { name: '标签' }).waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'zh-CN');
    await page.reload();
    await page.getByRole('columnheader', { name: '平台' }).waitFor();
    await assertAccessible('repository (zh-CN)');
    await page.getByRole('link', { name: '项目' }).first().click();
    await page.getByRole('heading', { name: '项目' }).waitFor();
    await page.getByLabel('主题').selectOption('dark');
    await assertAccessible('projects (zh-CN, dark)');
    await shot('projects-zh-dark');
    await page.getByLabel('主题').selectOption('system');
    await page.getByLabel('语言').selectOption('en');
  });

  it('does not offer a user what their role does not allow', async () => {
    const created = await fetch(`${server.url}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: basicAuth(admin()), 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'gina', password: 'Gina-Passw0rd-1' }),
    });
    assert.equal(created.status, 201);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill('gina');
    await page.getByLabel('Password').fill('Gina-Passw0rd-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'webapp' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Delete project/ }).count(), 0, 'no delete on projects gina does not administer');
  });

  it('sends the page back to login when the session ends', async () => {
    // As if it expired or was revoked: the next screen the user opens notices.
    await page.context().clearCookies();
    await page.getByRole('link', { name: 'webapp' }).click();
    await page.getByText('Your session has expired. Please log in again.').waitFor();
  });
});
