import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, selectedDatabases, type TestDatabase } from '@wharf/sdk-testing';
import { GROUPS_DN, PASSWORDS as LDAP_PASSWORDS, PEOPLE_DN, SEARCH_DN, SEARCH_PASSWORD, startSlapd, type Slapd } from '@wharf/plugin-auth-ldap/test-support/slapd';
import type { Page } from 'playwright-core';
import { singleImageLayout } from '../fixtures/images.js';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { basicAuth, startWharf, type Credentials, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';

/**
 * A project's own screens in a real Chromium against a real `wharf serve`: the summary above the
 * tabs (access, role, counts, storage against the quota), members (add a user and a group, change
 * a role, remove after a confirmation naming the member), robot accounts (create with push, the
 * secret shown once and copied from the dialog, used by skopeo to push; refresh, disable, delete),
 * what a developer and a guest are and are not offered, an LDAP user holding a role through a
 * directory group (whose password the directory keeps), changing one's own password, and a
 * session that ends in the middle of an action coming back to the same screen after login.
 * Each screen: axe-core (no serious or critical violation), no CSP violation, a screenshot.
 */

// MySQL runs the same plugin code as PostgreSQL; the UI's sessions on MySQL are tested in plugins/ui.
const databases = selectedDatabases().filter((d) => d !== 'mysql');

const DORA: Credentials = { username: 'dora', password: 'Dora-Passw0rd-1' };
const GUS: Credentials = { username: 'gus', password: 'Gus-Passw0rd-12' };

for (const dbName of databases) describe(dbName, () => {
  let server: RegistryHandle;
  let session: BrowserSession;
  let page: Page;
  let sandbox: ClientSandbox;
  let work: string;
  let db: TestDatabase;
  let slapd: Slapd;

  before(async () => {
    db = await createTestDatabase(dbName);
    slapd = await startSlapd();
    const ldap = { url: slapd.url, bindDN: SEARCH_DN, bindPassword: SEARCH_PASSWORD, userBase: PEOPLE_DN, groups: { mode: 'memberOf', base: GROUPS_DN } };
    server = await startWharf({ config: { database: db.config, auth: [{ db: {} }, { ldap }] } });
    session = await openBrowser(server, { shotPrefix: dbName === 'sqlite' ? 'project-' : `${dbName}-project-` });
    page = session.page;
    work = await makeTempDir('ui-project');
    sandbox = await createClientSandbox();
  });

  after(async () => {
    await session?.close();
    await server?.stop();
    await slapd?.stop();
    await sandbox?.cleanup();
    if (work) await removeDir(work);
    await db?.drop();
  });

  const admin = () => server.admin!;
  const asAdmin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: basicAuth(admin()), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
  };
  /** Who the API takes these credentials for: 200 when they log in, else the status. */
  const apiStatus = async (who: Credentials) => (await fetch(`${server.url}/api/v1/users/current`, { headers: { authorization: basicAuth(who) } })).status;
  const summary = () => page.getByRole('region', { name: 'Project summary' });
  const fact = (name: string) => summary().locator('div').filter({ has: page.locator('dt', { hasText: name }) }).locator('dd');
  const openTab = async (name: 'Members' | 'Robot accounts' | 'Repositories') => {
    await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name }).click();
    await page.getByRole('heading', { level: 2, name }).waitFor();
  };
  const logInAs = async (who: Credentials) => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await session.login(who.username, who.password);
  };

  it('creates a project and shows its summary: access, role, counts, storage against the quota', async () => {
    await session.login(admin().username, admin().password);
    await page.getByRole('button', { name: 'New project' }).click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Project name').fill('team');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Project team created.' }).waitFor();
    await asAdmin('PUT', '/projects/team/quota', { hard: { storage: '10MiB' } });
    await page.getByRole('link', { name: 'team' }).click();
    await page.getByRole('heading', { level: 1, name: 'team' }).waitFor();
    assert.equal(await fact('Access').innerText(), 'Private');
    assert.equal(await fact('My role').innerText(), 'Project admin');
    assert.equal(await fact('Repositories').innerText(), '0');
    assert.equal(await fact('Artifacts').innerText(), '0');
    assert.match(await fact('Storage used').innerText(), /^0 byte of 10 MB$/);
    assert.equal(await summary().getByRole('meter').getAttribute('aria-label'), 'Quota used: 0%');
    await session.assertAccessible('project summary');
    await session.shot('summary');
  });

  it('sorts the projects list on the server: descending by name, the second page continues it', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `sort-${String(i).padStart(2, '0')}`);
    for (const name of names) await asAdmin('POST', '/projects', { name });
    const shown = () => page.locator('table tbody tr td:first-child a').allInnerTexts();
    await page.goto(`${server.url}/projects?name=sort-`);
    await page.getByRole('link', { name: 'sort-00', exact: true }).waitFor();
    const nameHeader = page.getByRole('columnheader', { name: /Name/ });
    assert.equal(await nameHeader.getAttribute('aria-sort'), 'ascending', 'by name by default');
    await page.getByRole('link', { name: 'Sort by Name' }).click();
    await page.waitForURL(/sort=-name/);
    await page.locator('table tbody tr').first().getByRole('link', { name: 'sort-24' }).waitFor();
    assert.equal(await nameHeader.getAttribute('aria-sort'), 'descending');
    const descending = [...names].reverse();
    assert.deepEqual(await shown(), descending.slice(0, 20), 'the server sorted all 25, not the page');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Next' }).click();
    await page.waitForURL(/page=2/);
    await page.locator('table tbody tr').first().getByRole('link', { name: 'sort-04' }).waitFor();
    assert.deepEqual(await shown(), descending.slice(20), 'page 2 continues where page 1 stopped');
    await session.assertAccessible('projects sorted');
    await session.shot('projects-sorted');
    // Another column goes back to page 1.
    await page.getByRole('link', { name: 'Sort by Created' }).click();
    await page.waitForURL((url) => url.searchParams.get('sort') === 'createdAt' && !url.searchParams.has('page'));
    await page.locator('table tbody tr').first().getByRole('link', { name: 'sort-00' }).waitFor();
    for (const name of names) await asAdmin('DELETE', `/projects/${name}`);
    // The tests after this one go on from the project's page.
    await page.goto(`${server.url}/projects/team`);
    await page.getByRole('heading', { level: 1, name: 'team' }).waitFor();
  });

  it('adds a user and a group as members, changes a role, removes a member after naming it', async () => {
    for (const who of [DORA, GUS]) await asAdmin('POST', '/users', who);
    for (const group of ['devs', 'ops']) await asAdmin('POST', '/usergroups', { name: group, type: 'ldap', externalId: `cn=${group},${GROUPS_DN}` });
    await openTab('Members');
    assert.match(page.url(), /\/projects\/team\?tab=members$/);
    const add = async (kind: 'User' | 'Group', name: string, role: string) => {
      await page.getByRole('button', { name: 'Add member' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add a member to team' });
      await dialog.getByRole('radio', { name: kind }).check();
      await dialog.getByLabel(kind === 'User' ? 'Username' : 'Group name').fill(name);
      await dialog.getByLabel('Role').selectOption({ label: role });
      if (name === 'ops') await session.assertAccessible('add member');
      await dialog.getByRole('button', { name: 'Add' }).click();
      await page.getByRole('status').filter({ hasText: `${name} added as ${role}.` }).waitFor();
    };
    await add('User', DORA.username, 'Developer');
    await add('User', GUS.username, 'Developer');
    await add('Group', 'devs', 'Maintainer');
    await add('Group', 'ops', 'Guest');
    // A name that is no user yet is fine (LDAP users appear at first login); a missing group is not.
    await page.getByRole('button', { name: 'Add member' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a member to team' });
    await dialog.getByRole('radio', { name: 'Group' }).check();
    await dialog.getByLabel('Group name').fill('no-such-group');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await dialog.getByRole('alert').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await page.getByLabel('Role of gus').selectOption({ label: 'Guest' });
    await page.getByRole('status').filter({ hasText: 'The role of gus is now Guest.' }).waitFor();
    const row = (name: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
    await row('devs').getByText('Group').waitFor();
    assert.equal(await row('dora').getByLabel('Role of dora').inputValue(), 'developer');

    await page.getByLabel('Search members').fill('do');
    await page.waitForURL(/tab=members&name=do$/);
    // The search filters on the server: gus goes (waited for, as the old rows show until the answer comes), dora stays.
    await row('gus').waitFor({ state: 'detached' });
    await row('dora').waitFor();
    await page.getByLabel('Search members').fill('');
    await row('gus').waitFor();
    await session.assertAccessible('members');
    await session.shot('members');
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('heading', { level: 2, name: '成员' }).waitFor();
    await page.getByRole('region', { name: '项目概要' }).getByText('项目管理员').waitFor();
    await page.getByText('gus 的角色已改为访客。').waitFor(); // the notice follows the language too
    await page.getByLabel('主题').selectOption('dark');
    await session.assertAccessible('members (zh-CN, dark)');
    await session.shot('members-zh-dark');
    await page.getByLabel('主题').selectOption('system');
    await page.getByLabel('语言').selectOption('en');

    await page.getByRole('button', { name: 'Remove member ops' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove ops?' });
    await confirm.getByText('The group ops will lose its role in team').waitFor();
    await session.assertAccessible('remove member confirmation');
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('status').filter({ hasText: 'ops removed from the project.' }).waitFor();
    // The notice comes with the reload, not after it: wait for the row to go.
    await row('ops').waitFor({ state: 'detached' });
  });

  it('creates a robot with push, shows its secret once, and the copied secret pushes with skopeo', async () => {
    await openTab('Robot accounts');
    await page.getByText('No robot accounts in this project.').waitFor();
    await page.getByRole('button', { name: 'New robot account' }).click();
    const dialog = page.getByRole('dialog', { name: 'New robot account in team' });
    await dialog.getByLabel('Name', { exact: true }).fill('ci');
    await dialog.getByLabel('Description').fill('builds on main');
    await dialog.getByRole('group', { name: 'Repository' }).getByLabel('push').check();
    assert.ok(await dialog.getByRole('group', { name: 'Repository' }).getByLabel('pull').isChecked(), 'push brings pull');
    await session.assertAccessible('create robot');
    await session.shot('robot-create');
    await dialog.getByRole('button', { name: 'Create' }).click();

    const secretDialog = page.getByRole('dialog', { name: 'Secret of robot$team+ci' });
    await secretDialog.getByText('it will not be shown again').waitFor();
    await session.assertAccessible('robot secret');
    await session.shot('robot-secret');
    await secretDialog.getByRole('button', { name: 'Copy secret' }).click();
    const secret = (await page.evaluate('navigator.clipboard.readText()')) as string;
    assert.match(secret, /^[A-Za-z0-9_-]{32}$/);
    await secretDialog.getByRole('button', { name: 'I have copied it' }).click();
    await secretDialog.waitFor({ state: 'hidden' });
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page once the dialog closes');
    await page.reload();
    await page.getByRole('rowheader', { name: /robot\$team\+ci/ }).waitFor();
    assert.ok(!(await page.content()).includes(secret), 'and is not shown again');
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /robot\$team\+ci/ }) });
    await row.getByText('Repository: pull, push').waitFor();
    await row.getByText('Enabled').waitFor();
    await session.assertAccessible('robots');
    await session.shot('robots');
    // The list filters on the server, with the filter in the URL.
    await page.getByLabel('Search robot accounts').fill('nightly');
    await page.waitForURL(/[?&]name=nightly/);
    await page.getByText('No robot account matches “nightly”.').waitFor();
    await page.getByLabel('Search robot accounts').fill('c');
    await page.getByRole('rowheader', { name: /robot\$team\+ci/ }).waitFor();

    const robot = { username: 'robot$team+ci', password: secret };
    const { layout } = await singleImageLayout(join(work, 'single'));
    await sandbox.login(server.host, robot);
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${server.host}/team/app:v1`]);
    await openTab('Repositories');
    await page.getByRole('link', { name: 'app' }).waitFor();
    await page.reload();
    await fact('Repositories').filter({ hasText: '1' }).waitFor();
    assert.equal(await fact('Artifacts').innerText(), '1');
    assert.doesNotMatch(await fact('Storage used').innerText(), /^0 byte/);

    // Refresh: a new secret, shown once; the old one stops working.
    await openTab('Robot accounts');
    await page.getByRole('button', { name: 'Refresh the secret of robot$team+ci' }).click();
    await page.getByRole('dialog', { name: 'Refresh the secret of robot$team+ci?' }).getByRole('button', { name: 'Refresh secret' }).click();
    await secretDialog.getByRole('button', { name: 'Copy secret' }).click();
    const fresh = (await page.evaluate('navigator.clipboard.readText()')) as string;
    assert.notEqual(fresh, secret);
    await secretDialog.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await apiStatus(robot), 401, 'the old secret no longer logs in');
    assert.equal(await apiStatus({ ...robot, password: fresh }), 200);

    // Disable and enable.
    await page.getByRole('button', { name: 'Disable robot$team+ci' }).click();
    await page.getByRole('status').filter({ hasText: 'robot$team+ci disabled' }).waitFor();
    await row.getByText('Disabled').waitFor();
    assert.equal(await apiStatus({ ...robot, password: fresh }), 401, 'a disabled robot cannot log in');
    await page.getByRole('button', { name: 'Enable robot$team+ci' }).click();
    await row.getByText('Enabled').waitFor();
    assert.equal(await apiStatus({ ...robot, password: fresh }), 200);
  });

  it('offers a developer and a guest no member or robot management, a limited guest neither tab, and says their role', async () => {
    for (const [who, role] of [[DORA, 'Developer'], [GUS, 'Guest']] as const) {
      await logInAs(who);
      await page.goto(`${server.url}/projects/team?tab=members`);
      await page.getByRole('rowheader', { name: 'dora' }).waitFor();
      assert.equal(await fact('My role').innerText(), role);
      assert.equal(await page.getByRole('button', { name: 'Add member' }).count(), 0, `${role}: no add`);
      assert.equal(await page.getByRole('button', { name: /^Remove member/ }).count(), 0, `${role}: no remove`);
      assert.equal(await page.getByRole('combobox', { name: /^Role of/ }).count(), 0, `${role}: no role change`);
      await page.getByRole('row').filter({ hasText: 'gus' }).getByText('Guest').waitFor();
      if (role === 'Developer') {
        await session.assertAccessible('members (developer)');
        await session.shot('members-developer');
      }
      await openTab('Robot accounts');
      await page.getByRole('rowheader', { name: /robot\$team\+ci/ }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'New robot account' }).count(), 0, `${role}: no robot creation`);
      assert.equal(await page.getByRole('button', { name: /^(Refresh|Disable|Enable|Delete)/ }).count(), 0, `${role}: no robot actions`);
      // What the UI does not offer, the API refuses too.
      const res = await fetch(`${server.url}/api/v1/projects/team/robots`, {
        method: 'POST',
        headers: { authorization: basicAuth(who), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'sneaky', permissions: [{ kind: 'project', namespace: 'team', access: [{ resource: 'repository', action: 'pull' }] }] }),
      });
      assert.equal(res.status, 403);
    }
    // A limited guest may pull, not see members or robots: the tabs are not offered at all.
    const lim = { username: 'lim', password: 'Lim-Passw0rd-123' };
    await asAdmin('POST', '/users', lim);
    await asAdmin('POST', '/projects/team/members', { roleName: 'limitedGuest', memberUser: { username: lim.username } });
    await logInAs(lim);
    await page.goto(`${server.url}/projects/team?tab=members`);
    await fact('My role').filter({ hasText: 'Limited guest' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Repositories' }).waitFor();
    const tabs = page.getByRole('navigation', { name: 'Project sections' });
    assert.equal(await tabs.getByRole('link', { name: 'Members' }).count(), 0);
    assert.equal(await tabs.getByRole('link', { name: 'Robot accounts' }).count(), 0);
  });

  it('gives an LDAP user the role of their directory group, and leaves their password to the directory', async () => {
    await logInAs({ username: 'alice', password: LDAP_PASSWORDS['alice']! });
    await page.goto(`${server.url}/projects/team?tab=members`);
    await page.getByRole('rowheader', { name: 'devs' }).waitFor();
    assert.equal(await fact('My role').innerText(), 'Maintainer', 'through the LDAP group devs');
    assert.equal(await page.getByRole('button', { name: 'Add member' }).count(), 0, 'a maintainer does not manage members');
    await page.getByRole('link', { name: 'Account and password' }).click();
    await page.getByText('Your password is managed by your directory (ldap); change it there.').waitFor();
    assert.equal(await page.getByLabel('Current password').count(), 0, 'no password form for a directory user');
    await session.assertAccessible('account (LDAP)');
    await session.shot('account-ldap');
  });

  it('changes the own password from the user menu, and the new one logs in', async () => {
    await logInAs(DORA);
    await page.getByRole('link', { name: 'Account and password' }).click();
    await page.getByRole('heading', { name: 'Change password' }).waitFor();
    const newPassword = 'Dora-New-Passw0rd-2';
    await page.getByLabel('Current password').fill('not-the-password');
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Repeat the new password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: 'The current password is wrong.' }).waitFor();
    await page.getByLabel('Current password').fill(DORA.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
    assert.equal(await page.getByLabel('New password', { exact: true }).inputValue(), '', 'the form forgets the passwords');
    await session.assertAccessible('account');
    await session.shot('account');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill(DORA.username);
    await page.getByLabel('Password').fill(DORA.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    // Logging in keeps the URL: back on the account page, as the same user.
    await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    assert.match(page.url(), /\/account$/);
    await page.getByText('Signed in as dora').waitFor();
  });

  it('when the session ends during an action, asks to log in and comes back to the same screen', async () => {
    await logInAs(admin());
    await page.goto(`${server.url}/projects/team?tab=robots`);
    await page.getByRole('rowheader', { name: /robot\$team\+ci/ }).waitFor();
    await page.getByRole('button', { name: 'Delete robot account robot$team+ci' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete robot account robot$team+ci?' });
    await confirm.getByText('its secret stops working at once').waitFor();
    // As if the session expired while the confirmation was open.
    await page.context().clearCookies();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Your session has expired. Please log in again.').waitFor();
    await page.getByLabel('Username').fill(admin().username);
    await page.getByLabel('Password').fill(admin().password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 2, name: 'Robot accounts' }).waitFor();
    assert.match(page.url(), /\/projects\/team\?tab=robots$/, 'back on the same screen');
    // Nothing was deleted by the refused request; now it is, after the confirmation.
    await page.getByRole('button', { name: 'Delete robot account robot$team+ci' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: 'Robot account robot$team+ci deleted.' }).waitFor();
    await page.getByText('No robot accounts in this project.').waitFor();
  });
});
