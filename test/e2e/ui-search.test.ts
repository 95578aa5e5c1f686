import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, selectedDatabases, type TestDatabase } from '@wharf/sdk-testing';
import type { Page } from 'playwright-core';
import { multiPlatformLayout, singleImageLayout } from '../fixtures/images.js';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { pushReferrer, pushSmallImage } from '../helpers/oci-artifacts.js';
import { basicAuth, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';

/**
 * The registry-wide search and the repository page in a real Chromium against a real `wharf
 * serve`, on SQLite and PostgreSQL (`WHARF_TEST_DATABASES`): images pushed with skopeo (one
 * single-platform, one multi-arch index) and with fetch (more tags, an SBOM referrer); the
 * search box opened with "/" and Ctrl+K finds a project, a repository, a tag and a digest
 * prefix and is driven by the keyboard, its results page keeps the query in the URL, and a
 * non-member finds nothing of a private project, a Developer is offered adding tags but no
 * removal or delete; tags sort version-aware on the server and the
 * sort survives a reload; the artifact view shows an index's platforms and a referrer under its
 * subject; a tag is added and removed; two tags' artifacts are deleted with one confirmation
 * naming both; a repository is deleted from the project's list. axe-core and a screenshot on
 * each screen.
 */

const databases = selectedDatabases().filter((d) => d !== 'mysql');
const SBOM = 'application/spdx+json';

for (const dbName of databases) describe(dbName, () => {
  let server: RegistryHandle;
  let session: BrowserSession;
  let page: Page;
  let sandbox: ClientSandbox;
  let work: string;
  let db: TestDatabase;
  let subjectDigest = '';
  let indexDigest = '';

  const admin = () => server.admin!;
  const shot = (name: string) => session.shot(name);
  const assertAccessible = (screen: string) => session.assertAccessible(screen);
  const apiCall = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: basicAuth(admin()), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const searchBox = () => page.getByRole('combobox', { name: 'Search the registry' });
  const rowNames = async () => page.locator('table.tags tbody th[scope="row"]').allTextContents();

  before(async () => {
    db = await createTestDatabase(dbName);
    server = await startWharf({ config: { database: db.config } });
    session = await openBrowser(server, { shotPrefix: `search-${dbName === 'sqlite' ? '' : `${dbName}-`}` });
    page = session.page;
    work = await makeTempDir('ui-search');
    sandbox = await createClientSandbox();
    assert.equal((await apiCall('POST', '/projects', { name: 'acme' })).status, 201);
    assert.equal((await apiCall('POST', '/users', { username: 'mallory', password: 'Mallory-Passw0rd-1' })).status, 201);
    assert.equal((await apiCall('POST', '/users', { username: 'devon', password: 'Devon-Passw0rd-1' })).status, 201);
    assert.equal((await apiCall('POST', '/projects/acme/members', { memberUser: { username: 'devon' }, roleId: 2 })).status, 201);
    const single = await singleImageLayout(join(work, 'single'));
    const multi = await multiPlatformLayout(join(work, 'multi'));
    await sandbox.login(server.host, admin());
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${server.host}/acme/hello:v1.9`]);
    await sandbox.skopeoOk(['copy', '--all', '--dest-tls-verify=false', multi.layout.ref('multi'), `docker://${server.host}/acme/multi:v1`]);
    for (const tag of ['v1.10', 'v1.2', 'old', 'older']) await pushSmallImage(server, 'acme/hello', tag, `hello ${tag}`);
    await pushSmallImage(server, 'library/pubapp', 'v1', 'public app');
    const subject = await apiCall('GET', '/projects/acme/repositories/hello/artifacts/v1.9');
    subjectDigest = subject.body.digest;
    indexDigest = (await apiCall('GET', '/projects/acme/repositories/multi/artifacts/v1')).body.digest;
    await pushReferrer(server, 'acme/hello', { mediaType: subject.body.mediaType, digest: subjectDigest, size: subject.body.manifestSize }, SBOM, '{"spdxVersion":"SPDX-2.3"}');
  });

  after(async () => {
    await session?.close();
    await server?.stop();
    await sandbox?.cleanup();
    if (work) await removeDir(work);
    await db?.drop();
  });

  it('finds a project, a repository, a tag and a digest prefix from the header, by keyboard', async () => {
    await session.login(admin().username, admin().password);
    await page.keyboard.press('/');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'registry-search', '"/" focuses the search box');
    await page.keyboard.type('acme');
    const popup = page.getByRole('listbox', { name: 'Search results' });
    await popup.getByRole('group', { name: 'Projects' }).getByRole('option', { name: 'acme' }).waitFor();
    await popup.getByRole('group', { name: 'Repositories' }).getByRole('option', { name: 'acme/hello' }).waitFor();
    await assertAccessible('search box');
    await shot('box');
    await page.keyboard.press('ArrowDown');
    assert.equal(await popup.getByRole('option', { name: 'acme', exact: true }).getAttribute('aria-selected'), 'true');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/projects\/acme$/);
    await page.getByRole('heading', { name: 'acme', exact: true }).waitFor();

    await page.keyboard.press('Control+k');
    await page.keyboard.type('v1.10');
    await popup.getByRole('group', { name: 'Tags' }).getByRole('option', { name: /acme\/hello:v1\.10/ }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/projects\/acme\/repositories\/hello\?name=v1\.10$/);
    await page.getByRole('rowheader', { name: 'v1.10' }).waitFor();

    const prefix = subjectDigest.slice('sha256:'.length, 'sha256:'.length + 10);
    await page.keyboard.press('/');
    await page.keyboard.type(prefix);
    await popup.getByRole('group', { name: 'Digests' }).getByRole('option', { name: new RegExp(`acme/hello@${prefix}`) }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(/view=artifacts&digest=sha256%3A/);
    await page.getByText(`Showing artifact ${subjectDigest.slice(7, 19)} only.`).waitFor();

    // Enter with nothing highlighted: the results page, its query in the URL.
    await page.keyboard.press('/');
    await page.keyboard.type('hello');
    await popup.getByRole('option', { name: 'acme/hello' }).waitFor();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\?q=hello$/);
    await page.reload();
    await page.getByRole('heading', { name: 'Results for “hello”' }).waitFor();
    await page.getByRole('region', { name: /Repositories/ }).getByRole('link', { name: 'acme/hello' }).waitFor();
    await assertAccessible('search results');
    await shot('results');
  });

  it('finds nothing of a private project for a non-member, but public content; offers a Developer only what the role allows', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await session.login('mallory', 'Mallory-Passw0rd-1');
    await page.goto(`${server.url}/search?q=hello`);
    await page.getByText('Nothing matches “hello”.').waitFor();
    await page.goto(`${server.url}/search?q=${subjectDigest.slice(7, 17)}`);
    await page.getByText(/^Nothing matches/).waitFor();
    await searchBox().fill('app');
    const popup = page.getByRole('listbox', { name: 'Search results' });
    await popup.getByRole('option', { name: 'library/pubapp' }).waitFor();
    assert.equal(await popup.getByRole('option', { name: /acme/ }).count(), 0);
    await searchBox().fill('acme');
    await page.locator('.search-popup').getByText('Nothing matches “acme”.').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Log out' }).click();

    // A Developer finds the project's content and may add tags, but is offered no remove or delete.
    await session.login('devon', 'Devon-Passw0rd-1');
    await page.goto(`${server.url}/search?q=hello`);
    await page.getByRole('link', { name: 'acme/hello' }).click();
    await page.getByRole('button', { name: 'Add a tag to the artifact of v1.9' }).waitFor();
    for (const name of [/^Remove tag/, 'Delete selected artifacts', 'Delete repository']) assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${String(name)} for a Developer`);
    assert.equal(await page.getByRole('checkbox').count(), 0, 'nothing to select');
    await page.getByRole('link', { name: 'acme', exact: true }).click();
    await page.getByRole('link', { name: 'hello' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Delete repository/ }).count(), 0);
    await page.getByRole('button', { name: 'Log out' }).click();
    await session.login(admin().username, admin().password);
  });

  it('sorts tags version-aware on the server and keeps the sort in the URL', async () => {
    await page.goto(`${server.url}/projects/acme/repositories/hello`);
    await page.getByRole('heading', { name: 'acme/hello' }).waitFor();
    await page.getByRole('link', { name: 'Sort by Tag' }).click();
    await page.waitForURL(/sort=name/);
    await page.getByRole('columnheader', { name: /Tag/ }).and(page.locator('[aria-sort="ascending"]')).waitFor();
    await page.locator('table.tags tbody tr').first().getByRole('rowheader', { name: 'v1.2' }).waitFor();
    assert.deepEqual(await rowNames(), ['v1.2', 'v1.9', 'v1.10', 'old', 'older']);
    await page.reload();
    await page.getByRole('rowheader', { name: 'v1.10' }).waitFor();
    assert.deepEqual(await rowNames(), ['v1.2', 'v1.9', 'v1.10', 'old', 'older'], 'the sort survives a reload');
    await page.getByRole('link', { name: 'Sort by Tag' }).click();
    await page.waitForURL(/sort=-name/);
    await page.locator('table.tags tbody tr').first().getByRole('rowheader', { name: 'older' }).waitFor();
    const v19 = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'v1.9' }) });
    await v19.getByText('1 referrers (signatures, SBOMs)').waitFor();
    await assertAccessible('tags sorted');
    await shot('tags');
  });

  it('shows the artifact view: an index\'s platforms, a referrer under its subject, pull commands per digest', async () => {
    await page.goto(`${server.url}/projects/acme/repositories/multi?view=artifacts`);
    const index = page.locator(`li.artifact[data-digest="${indexDigest}"]`);
    await index.getByText('multi-arch index').waitFor();
    await index.getByRole('region', { name: /^Platforms of/ }).getByText('linux/amd64').waitFor();
    await index.getByText('linux/arm64/v8').waitFor();
    assert.equal(await page.locator('li.artifact').count(), 1, 'the platform images are not entries of their own');
    await index.getByRole('button', { name: /Copy podman pull command for digest/ }).click();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), `podman pull ${server.host}/acme/multi@${indexDigest}`);
    await assertAccessible('artifacts (index)');
    await shot('artifacts-index');

    await page.goto(`${server.url}/projects/acme/repositories/hello?view=artifacts`);
    const subject = page.locator(`li.artifact[data-digest="${subjectDigest}"]`);
    const referrers = subject.getByRole('region', { name: /^Referrers of/ });
    await referrers.getByText('SBOM', { exact: true }).waitFor();
    await referrers.getByText(SBOM, { exact: false }).waitFor();
    assert.equal(await page.locator('li.artifact').count(), 5, 'five images; the SBOM is nested, not an entry');
    await assertAccessible('artifacts (referrer)');
    await shot('artifacts-referrer');
  });

  it('adds and removes a tag', async () => {
    await page.goto(`${server.url}/projects/acme/repositories/hello?sort=name`);
    await page.getByRole('button', { name: 'Add a tag to the artifact of v1.9' }).click();
    const dialog = page.getByRole('dialog', { name: /^Add a tag to/ });
    await dialog.getByLabel('New tag').fill('stable');
    await assertAccessible('add tag');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('status').filter({ hasText: 'Tag stable added.' }).waitFor();
    const stable = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'stable' }) });
    await stable.locator(`code[title="${subjectDigest}"]`).waitFor();
    await stable.getByRole('button', { name: 'Remove tag stable' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove tag stable?' });
    await confirm.getByText(/The artifact and its other tags stay/).waitFor();
    await assertAccessible('remove tag');
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('status').filter({ hasText: 'Tag stable removed.' }).waitFor();
    await page.getByRole('rowheader', { name: 'stable' }).waitFor({ state: 'detached' });
    assert.equal((await apiCall('GET', '/projects/acme/repositories/hello/artifacts/stable')).status, 404);
  });

  it('deletes two tags\' artifacts with one confirmation naming both', async () => {
    await page.getByRole('checkbox', { name: 'Select tag old', exact: true }).check();
    await page.getByRole('checkbox', { name: 'Select tag older' }).check();
    await page.getByText('2 selected').waitFor();
    await page.getByRole('button', { name: 'Delete selected artifacts' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete 2 artifacts?' });
    await confirm.getByRole('listitem').filter({ hasText: /with tags old$/ }).waitFor();
    await confirm.getByRole('listitem').filter({ hasText: /with tags older$/ }).waitFor();
    assert.equal(await confirm.getByRole('listitem').count(), 2, 'one confirmation listing both');
    await assertAccessible('bulk delete confirmation');
    await shot('bulk-delete');
    await confirm.getByRole('button', { name: 'Delete 2 artifacts' }).click();
    await page.getByRole('status').filter({ hasText: '2 artifacts deleted.' }).waitFor();
    await page.getByRole('rowheader', { name: 'older' }).waitFor({ state: 'detached' });
    await page.getByRole('rowheader', { name: 'v1.10' }).waitFor();
    assert.deepEqual(await rowNames(), ['v1.2', 'v1.9', 'v1.10']);
    for (const tag of ['old', 'older']) assert.equal((await apiCall('GET', `/projects/acme/repositories/hello/artifacts/${tag}`)).status, 404);
  });

  it('deletes a repository from the project\'s list after naming it', async () => {
    await page.goto(`${server.url}/projects/acme`);
    await page.getByRole('button', { name: 'Delete repository acme/multi' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete repository acme/multi?' });
    await confirm.getByText(/with its 3 artifacts and 1 tags/).waitFor();
    await assertAccessible('delete repository');
    await shot('delete-repository');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: 'Repository acme/multi deleted.' }).waitFor();
    await page.getByRole('link', { name: 'hello' }).waitFor();
    await page.getByRole('link', { name: 'multi' }).waitFor({ state: 'detached' }); // the list reloads after the notice shows
    assert.equal((await apiCall('GET', '/projects/acme/repositories/multi')).status, 404);
  });
});
