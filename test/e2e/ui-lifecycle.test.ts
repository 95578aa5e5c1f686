import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, selectedDatabases, type TestDatabase } from '@wharf/sdk-testing';
import type { Page } from 'playwright-core';
import { singleImageLayout } from '../fixtures/images.js';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { basicAuth, repoRoot, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';

/**
 * A project's lifecycle screens in a real Chromium against a real `wharf serve` (default
 * config), on SQLite and PostgreSQL: the Webhooks tab, which the webhooks plugin contributes at
 * runtime through the UI extension contract (ADR 0039), creates a policy whose receiver is a
 * local HTTP server; a push with skopeo reaches it and its delivery is listed; the push is in the
 * project's audit log tab, with a filter in the URL that survives a reload; a quota set by the
 * administrator shows as a usage bar; an immutability rule and a retention policy are added and
 * a retention dry run shows what it would delete, per repository. axe-core and the CSP check
 * run on every screen; screenshots go to test/screenshots/ui-lifecycle-*.png.
 */

const databases = selectedDatabases().filter((d) => d !== 'mysql');

for (const dbName of databases) describe(dbName, () => {
  let server: RegistryHandle;
  let session: BrowserSession;
  let page: Page;
  let sandbox: ClientSandbox;
  let work: string;
  let db: TestDatabase;
  let receiver: http.Server;
  const received: { type: string; body: string }[] = [];
  const project = 'lifecycle';

  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ type: String((JSON.parse(body) as { type?: string }).type), body });
        res.end('ok');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    db = await createTestDatabase(dbName);
    // The binary's default extensions, plus two loaded by path: the webhook-teams example (a
    // project summary panel) and a test fixture (a navigation page and a repository tab).
    const extensions = {
      ...Object.fromEntries(['replication', 'repositories', 'webhooks', 'tag-retention', 'tag-immutability', 'quotas', 'gc', 'metrics', 'ui'].map((k) => [k, {}])),
      [join(repoRoot, 'examples/webhook-teams')]: {},
      [join(repoRoot, 'test/fixtures/ui-extension-plugin')]: {},
    };
    server = await startWharf({ config: { database: db.config, extensions } });
    session = await openBrowser(server, { shotPrefix: `ui-lifecycle-${dbName === 'sqlite' ? '' : `${dbName}-`}` });
    page = session.page;
    work = await makeTempDir('ui-lifecycle');
    sandbox = await createClientSandbox();
  });

  after(async () => {
    await session?.close();
    await server?.stop();
    await sandbox?.cleanup();
    if (work) await removeDir(work);
    await db?.drop();
    receiver?.close();
  });

  const checked = async (screen: string) => {
    await session.assertAccessible(screen);
    await session.shot(screen.replace(/\W+/g, '-'));
  };
  const tab = (name: string) => page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name });

  it('creates a webhook policy in the tab the webhooks plugin contributes, and lists the delivery of a push', async () => {
    await session.login(server.admin!.username, server.admin!.password);
    await page.getByRole('button', { name: 'New project' }).click();
    const create = page.getByRole('dialog', { name: 'New project' });
    await create.getByLabel('Project name').fill(project);
    await create.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('link', { name: project }).click();
    await page.getByRole('heading', { name: project, level: 1 }).waitFor();

    // The tab comes from the plugin's module, loaded at runtime: the page was built without it.
    await tab('Webhooks').click();
    await page.waitForURL(/\?tab=webhooks\.policies$/);
    await page.getByText('No webhooks in this project yet.').waitFor();
    await page.getByRole('button', { name: 'New webhook' }).click();
    const form = page.getByRole('dialog', { name: 'New webhook' });
    await form.getByLabel('Name').fill('ci-notify');
    await form.getByLabel('PUSH_ARTIFACT').check();
    await form.getByLabel('Receiver URL').fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    await session.assertAccessible('webhook form');
    await form.getByRole('button', { name: 'Create' }).click();
    const secret = page.getByRole('dialog', { name: 'Webhook ci-notify created' });
    assert.match((await secret.locator('code').textContent()) ?? '', /\S{16,}/, 'the signing secret is shown once');
    await secret.getByRole('button', { name: 'Done' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'ci-notify' }) });
    await row.getByText('Enabled').waitFor();

    const single = await singleImageLayout(join(work, 'single'));
    await sandbox.login(server.host, server.admin!);
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${server.host}/${project}/hello:v1`]);
    const deadline = Date.now() + 20_000;
    while (!received.some((r) => r.type === 'PUSH_ARTIFACT') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(received.some((r) => r.type === 'PUSH_ARTIFACT' && r.body.includes(`${project}/hello`)), 'the receiver got the push');

    await row.getByRole('button', { name: 'Show the deliveries of webhook ci-notify' }).click();
    const deliveries = page.getByRole('region', { name: 'Deliveries of ci-notify' });
    const delivered = deliveries.getByRole('row').filter({ hasText: 'PUSH_ARTIFACT' });
    for (let i = 0; i < 50 && (await delivered.filter({ hasText: 'Succeeded' }).count()) === 0; i++) {
      await deliveries.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(200);
    }
    await delivered.getByText('Succeeded').waitFor();
    await delivered.getByText('200').waitFor();
    await checked('webhooks tab');

    // A test event, delivered like the push.
    await row.getByRole('button', { name: 'Send a test event to webhook ci-notify' }).click();
    await page.getByRole('status').filter({ hasText: 'A test event was queued for ci-notify.' }).waitFor();
    const tested = deliveries.getByRole('row').filter({ hasText: 'TEST_WEBHOOK' });
    for (let i = 0; i < 50 && (await tested.filter({ hasText: 'Succeeded' }).count()) === 0; i++) {
      await deliveries.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(200);
    }
    await tested.getByText('Succeeded').waitFor();

    // The module follows the page's language: it is mounted again with the new locale.
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('button', { name: '新建 Webhook' }).waitFor();
    await page.getByRole('columnheader', { name: '事件类型' }).waitFor();
    await checked('webhooks tab zh-CN');
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('button', { name: 'New webhook' }).waitFor();

    // Disable and enable again, through the same module.
    await row.getByRole('button', { name: 'Disable webhook ci-notify' }).click();
    await row.getByText('Disabled').waitFor();
    await row.getByRole('button', { name: 'Enable webhook ci-notify' }).click();
    await row.getByText('Enabled').waitFor();
  });

  it('shows the other slots plugins fill: a summary panel, a navigation page, a repository tab', async () => {
    // The example's panel, on the project page, from its own module and the host's API.
    const panel = page.getByRole('region', { name: 'Microsoft Teams' });
    await panel.getByText('No webhook posts to Teams yet.').waitFor();
    await panel.getByRole('link', { name: 'Manage webhooks' }).click();
    await page.waitForURL(/\?tab=webhooks\.policies$/);
    await page.getByRole('rowheader', { name: 'ci-notify' }).waitFor();

    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Inventory' }).click();
    await page.waitForURL(/\/plugins\/ui-fixture\/inventory$/);
    await page.getByRole('heading', { name: 'Inventory', level: 1 }).waitFor();
    await page.getByText('admin sees 2 projects (en)').waitFor();
    await checked('plugin page');
    await page.reload();
    await page.getByText('admin sees 2 projects (en)').waitFor();

    await page.goto(`${server.url}/projects/${project}/repositories/hello`);
    await page.getByRole('navigation', { name: 'Repository sections' }).getByRole('link', { name: 'Notes' }).click();
    await page.getByText(`Notes about ${project}/hello in ${project}`).waitFor();
    await checked('plugin repository tab');
    await page.goto(`${server.url}/projects/${project}`);
  });

  it('shows the push in the audit log, with a filter in the URL that survives a reload', async () => {
    await tab('Audit log').click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel('Operation').selectOption('push');
    await page.waitForURL(/[?&]operation=push/);
    await page.reload();
    assert.equal(await page.getByLabel('Operation').inputValue(), 'push', 'the filter is read back from the URL');
    const pushed = page.getByRole('row').filter({ hasText: `${project}/hello` });
    for (let i = 0; i < 50 && (await pushed.count()) === 0; i++) {
      await page.waitForTimeout(200);
      await page.reload();
    }
    await pushed.first().getByText('Push').waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: 'Create' }).count(), 0, 'only pushes are listed');
    // A time range in the URL: nothing pushed in 2099.
    await page.goto(`${server.url}/projects/${project}?tab=audit-log&operation=push&from=2099-01-01T00:00`);
    await page.getByText('No entry matches these filters.').waitFor();
    assert.equal(await page.getByLabel('From').inputValue(), '2099-01-01T00:00');
    await page.goto(`${server.url}/projects/${project}?tab=audit-log&operation=push`);
    await pushed.first().waitFor();
    const csv = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.match(csv ?? '', new RegExp(`^/api/v1/projects/${project}/audit-logs/export\\?operation=push&format=csv$`));
    const exported = await page.evaluate(`fetch(${JSON.stringify(csv)}).then((r) => r.text())`);
    assert.match(String(exported), new RegExp(`${project}/hello`));
    await checked('audit log tab');

    // Cursor paging, one entry a page: the cursor is in the URL and survives a reload.
    await page.goto(`${server.url}/projects/${project}?tab=audit-log&operation=create&limit=1`);
    const firstRow = (await page.getByRole('row').nth(1).textContent()) ?? '';
    await page.getByRole('link', { name: 'Older' }).click();
    await page.waitForURL(/[?&]cursor=/);
    await page.getByRole('link', { name: 'Newest' }).waitFor();
    await page.reload();
    const secondRow = (await page.getByRole('row').nth(1).textContent()) ?? '';
    assert.notEqual(secondRow, firstRow, 'the next page shows an older entry');
    assert.equal(await page.getByRole('row').count(), 2, 'a header and one entry');
  });

  it('sets a quota as the administrator and shows the usage bar', async () => {
    await tab('Quota').click();
    await page.getByRole('heading', { name: 'Quota', level: 2 }).waitFor();
    await page.getByLabel('Storage limit').fill('1GiB');
    await page.getByLabel('Artifact limit').fill('100');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByRole('status').filter({ hasText: 'The quota was saved.' }).waitFor();
    const storage = page.getByRole('meter', { name: 'Storage' });
    await storage.waitFor();
    assert.equal(await storage.getAttribute('max'), String(1024 ** 3));
    assert.ok(Number(await storage.getAttribute('value')) > 0, 'the push counts against the quota');
    await page.getByText(/of 1 GB \(0%\)/).waitFor();
    await page.getByRole('meter', { name: 'Artifacts' }).waitFor();
    await page.getByText('1 of 100 (1%)').waitFor();
    await checked('quota tab');
  });

  it('adds a tag immutability rule', async () => {
    await tab('Tag immutability').click();
    await page.getByText('No immutability rules: every tag can be overwritten or deleted.').waitFor();
    await page.getByRole('button', { name: 'New rule' }).click();
    const form = page.getByRole('dialog', { name: 'New immutability rule' });
    await form.getByRole('group', { name: 'Tags' }).getByLabel('Pattern').fill('release-*');
    await session.assertAccessible('immutability form');
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'The rule was created.' }).waitFor();
    const rule = page.getByRole('row').filter({ hasText: 'release-*' });
    await rule.getByText('Enabled').waitFor();
    await checked('immutability tab');
    await rule.getByRole('button', { name: /^Disable rule/ }).click();
    await rule.getByText('Disabled').waitFor();
    await rule.getByRole('button', { name: /^Enable rule/ }).click();
    await rule.getByText('Enabled').waitFor();
  });

  it('saves a retention policy, dry-runs it and shows what it would delete per repository', async () => {
    await tab('Tag retention').click();
    await page.getByText('No rules yet.').waitFor();
    await page.getByRole('button', { name: 'Add a rule' }).click();
    const rule = page.getByRole('group', { name: 'Rule 1' });
    // Keep only release-* tags: v1 is not one, so the run would delete it.
    await rule.getByLabel('Keep').selectOption('always');
    await rule.getByRole('group', { name: 'Tags' }).getByLabel('Pattern').fill('release-*');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').filter({ hasText: 'The retention policy was saved.' }).waitFor();
    await page.getByRole('button', { name: 'Dry run' }).click();
    const execution = page.getByRole('row').filter({ hasText: 'Dry run' });
    await execution.getByText('Succeeded').waitFor({ timeout: 30_000 });
    await execution.getByText('1 evaluated, 0 kept, 1 would be deleted').waitFor();
    await execution.getByRole('link', { name: /^Repositories of execution/ }).click();
    await page.waitForURL(/[?&]execution=\d+/);
    const task = page.getByRole('region', { name: /^Repositories of execution/ }).getByRole('row').filter({ hasText: 'hello' });
    await task.getByText('Succeeded').waitFor();
    await task.getByText('1 evaluated, 0 kept, 1 would be deleted').waitFor();
    const log = await task.getByRole('link', { name: /^Log of (lifecycle\/)?hello$/ }).getAttribute('href');
    const text = String(await page.evaluate(`fetch(${JSON.stringify(log)}).then((r) => r.text())`));
    assert.match(text, /v1/, 'the task log names the artifact');
    await checked('retention tab');
    // Nothing was deleted: it was a dry run.
    const manifest = () => fetch(`${server.url}/v2/${project}/hello/manifests/v1`, { method: 'HEAD', headers: { authorization: basicAuth(server.admin!) } });
    assert.equal((await manifest()).status, 200);

    // Run now, after a confirmation naming the project: v1 goes.
    await page.getByRole('button', { name: 'Run now' }).click();
    const confirm = page.getByRole('dialog', { name: `Run tag retention in ${project} now?` });
    await confirm.getByText(`Artifacts in ${project} that no rule keeps will be deleted.`, { exact: false }).waitFor();
    await session.assertAccessible('retention run confirmation');
    await confirm.getByRole('button', { name: 'Run now' }).click();
    const run = page.getByRole('row').filter({ hasText: 'Run · manual' });
    await run.getByText('Succeeded').waitFor({ timeout: 30_000 });
    await run.getByText('1 evaluated, 0 kept, 1 deleted').waitFor();
    assert.equal((await manifest()).status, 404);
  });

  it('deletes a webhook and an immutability rule only after a confirmation naming them', async () => {
    await tab('Tag immutability').click();
    await page.getByRole('button', { name: /^Delete rule .*release-\*/ }).click();
    const confirmRule = page.getByRole('dialog', { name: 'Delete this immutability rule?' });
    await confirmRule.getByText(/release-\*.* will be deleted/).waitFor();
    await confirmRule.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No immutability rules: every tag can be overwritten or deleted.').waitFor();

    await tab('Webhooks').click();
    await page.getByRole('button', { name: 'Delete webhook ci-notify' }).click();
    const confirmHook = page.getByRole('dialog', { name: 'Delete webhook ci-notify?' });
    await confirmHook.getByText('The webhook ci-notify and its delivery history will be deleted.', { exact: false }).waitFor();
    await session.assertAccessible('webhook delete confirmation');
    await confirmHook.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No webhooks in this project yet.').waitFor();
  });

  it('offers a developer only what the API lets a developer do', async () => {
    const auth = { authorization: basicAuth(server.admin!), 'content-type': 'application/json' };
    const user = await fetch(`${server.url}/api/v1/users`, { method: 'POST', headers: auth, body: JSON.stringify({ username: 'dev', password: 'Dev-Passw0rd-1' }) });
    assert.equal(user.status, 201);
    const member = await fetch(`${server.url}/api/v1/projects/${project}/members`, { method: 'POST', headers: auth, body: JSON.stringify({ roleName: 'developer', memberUser: { username: 'dev' } }) });
    assert.equal(member.status, 201);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill('dev');
    await page.getByLabel('Password').fill('Dev-Passw0rd-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.goto(`${server.url}/projects/${project}`);
    await tab('Quota').waitFor();
    // Once the role is known (no request left), the offer is final.
    await page.waitForLoadState('networkidle');
    const offered = await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link').allTextContents();
    assert.deepEqual(offered, ['Repositories', 'Members', 'Robot accounts', 'Quota'], 'members and robots to read, but no audit log, rules, retention or webhooks for a developer');
    assert.equal(await page.getByRole('region', { name: 'Microsoft Teams' }).count(), 0, "the example's panel names admins and maintainers only");
    await tab('Quota').click();
    await page.getByRole('meter', { name: 'Storage' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save limits' }).count(), 0, 'only system administrators change a quota');
    // A link to a tab the role is not offered shows the first tab, not the tab.
    await page.goto(`${server.url}/projects/${project}?tab=webhooks.policies`);
    await page.locator('nav.tabs a[aria-current="page"]', { hasText: 'Repositories' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'New webhook' }).count(), 0);
  });
});
