import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { webhooksPlugin } from '@wharf/plugin-webhooks';
import { captureLogs, createTestDatabase, startTestRegistry, startTestPlugin, type TestRegistry } from '@wharf/sdk-testing';
import { coreServices, definePlugin, Type, type UiContribution, type WharfPlugin } from '@wharf/sdk';
import { uiPlugin } from './index.js';
import { CONTENT_SECURITY_POLICY } from './security.js';
import { ADMIN_PASSWORD, basic, call } from './test-support.js';

/**
 * The UI extension contract (ADR 0039) on a real registry: what plugins contribute is listed at
 * /api/v1/ui/extensions for logged-in users, each module is served same-origin with its content
 * type and the page's CSP, nothing outside a contribution's directory is reachable, a
 * contribution whose files are missing is left out, and a plugin that is not loaded contributes
 * nothing. The contract does not touch the database: SQLite is enough.
 */

const dir = mkdtempSync(join(tmpdir(), 'wharf-ui-ext-'));
const pkg = join(dir, 'pkg');
mkdirSync(join(pkg, 'ui', 'nested'), { recursive: true });
writeFileSync(join(pkg, 'ui', 'page.js'), "import { label } from './nested/label.js';\nexport function mount(host) { host.element.textContent = label; }\n");
writeFileSync(join(pkg, 'ui', 'nested', 'label.js'), "export const label = 'hello';\n");
writeFileSync(join(pkg, 'ui', 'style.css'), '.x { color: red }\n');
writeFileSync(join(pkg, 'ui', '.env'), 'TOKEN=hidden-dotfile\n');
writeFileSync(join(pkg, 'ui', 'source.ts'), 'export const x = 1;\n');
writeFileSync(join(pkg, 'secret.js'), "export const secret = 'outside-the-directory';\n");
symlinkSync(join(pkg, 'secret.js'), join(pkg, 'ui', 'link.js'));

function contributing(id: string, contribution: Omit<UiContribution, 'directory'> & { directory?: string }): WharfPlugin {
  return definePlugin({
    id,
    kind: 'extension',
    version: '0.0.1',
    kernel: '^0.1.0',
    configSchema: Type.Object({}),
    register(ctx) {
      ctx.ui.contribute({ directory: join(pkg, 'ui'), ...contribution });
    },
  });
}

const pagePlugin = contributing('ext-page', {
  module: 'page.js',
  slots: [
    { slot: 'navigation', id: 'hello', label: { en: 'Hello', 'zh-CN': '你好' } },
    { slot: 'repository-tab', id: 'scan', label: { en: 'Scan' }, export: 'mount', roles: ['projectAdmin', 'developer'] },
  ],
});
const missingPlugin = contributing('ext-missing', { module: 'not-built.js', slots: [{ slot: 'project-summary', id: 'gone', label: { en: 'Gone' } }] });

async function boot(plugins: WharfPlugin[], logs?: ReturnType<typeof captureLogs>): Promise<TestRegistry> {
  const before = process.env['WHARF_ADMIN_PASSWORD'];
  process.env['WHARF_ADMIN_PASSWORD'] = ADMIN_PASSWORD;
  try {
    return await startTestRegistry({
      config: { database: { ...(await createTestDatabase('sqlite')).config }, auth: [{ db: {} }], rbac: { projects: {} }, server: { trustProxy: true }, log: { level: 'warn' } },
      plugins: [rbacProjectsPlugin, uiPlugin, ...plugins],
      ...(logs ? { logDestination: logs.stream } : {}),
    });
  } finally {
    if (before === undefined) delete process.env['WHARF_ADMIN_PASSWORD'];
    else process.env['WHARF_ADMIN_PASSWORD'] = before;
  }
}

const admin = { authorization: basic('admin', ADMIN_PASSWORD) };
type Listed = { plugin: string; slot: string; id: string; label: Record<string, string>; module: string; export: string; roles?: string[] };

describe('the contract, declared', () => {
  it('refuses a malformed contribution when the plugin registers, naming the plugin', async () => {
    const bad: [Omit<UiContribution, 'directory'> & { directory?: string }, RegExp][] = [
      [{ module: '../escape.js', slots: [{ slot: 'navigation', id: 'a', label: { en: 'A' } }] }, /module must be a relative path/],
      [{ module: 'page.ts', slots: [{ slot: 'navigation', id: 'a', label: { en: 'A' } }] }, /module must be a relative path/],
      [{ module: 'page.js', slots: [] }, /at least one slot/],
      [{ module: 'page.js', slots: [{ slot: 'sidebar' as 'navigation', id: 'a', label: { en: 'A' } }] }, /slot must be one of/],
      [{ module: 'page.js', slots: [{ slot: 'navigation', id: 'A B', label: { en: 'A' } }] }, /kebab-case/],
      [{ module: 'page.js', slots: [{ slot: 'navigation', id: 'a', label: {} as { en: string } }] }, /label.en is required/],
      [{ module: 'page.js', slots: [{ slot: 'navigation', id: 'a', label: { en: 'A' }, roles: ['owner' as 'guest'] }] }, /roles must be project roles/],
      [{ module: 'page.js', directory: 'relative/dir', slots: [{ slot: 'navigation', id: 'a', label: { en: 'A' } }] }, /directory must be/],
      [
        {
          module: 'page.js',
          slots: [
            { slot: 'navigation', id: 'a', label: { en: 'A' } },
            { slot: 'project-tab', id: 'a', label: { en: 'A' } },
          ],
        },
        /used twice/,
      ],
    ];
    for (const [contribution, message] of bad) {
      await assert.rejects(boot([contributing('ext-bad', contribution)]), (err: Error) => message.test(err.message) && /ext-bad/.test(err.message), String(message));
    }
  });

  it('refuses a contribution made after registration (in the init)', async () => {
    const late = definePlugin({
      id: 'ext-late',
      kind: 'extension',
      version: '0.0.1',
      kernel: '^0.1.0',
      configSchema: Type.Object({}),
      register(ctx) {
        ctx.registerInit({ deps: {}, init: () => ctx.ui.contribute({ directory: join(pkg, 'ui'), module: 'page.js', slots: [{ slot: 'navigation', id: 'a', label: { en: 'A' } }] }) });
      },
    });
    await assert.rejects(boot([late]), (err: Error & { code?: string }) => err.code === 'REG_ERR_PLUGIN_SEALED' && /ext-late/.test(err.message));
  });

  it('sdk-testing records contributions and checks them as the kernel does', async () => {
    const plugin = await startTestPlugin(pagePlugin);
    try {
      assert.deepEqual(plugin.uiContributions.map((c) => c.module), ['page.js']);
      assert.deepEqual(plugin.get(coreServices.uiContributions).list().map((c) => [c.plugin, c.directory, c.module]), [['ext-page', join(pkg, 'ui'), 'page.js']]);
    } finally {
      await plugin.close();
    }
    await assert.rejects(startTestPlugin(contributing('ext-bad', { module: '/abs.js', slots: [{ slot: 'navigation', id: 'a', label: { en: 'A' } }] })), /module must be/);
  });
});

describe('the contract, served', () => {
  let registry: TestRegistry;
  const logs = captureLogs({ level: 'warn' });
  before(async () => {
    registry = await boot([webhooksPlugin, pagePlugin, missingPlugin], logs);
  });
  after(async () => {
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every slot of the loaded plugins for a logged-in user, and nothing for an anonymous one', async () => {
    assert.equal((await call(registry.url, 'GET', '/api/v1/ui/extensions')).status, 401);
    const res = await call(registry.url, 'GET', '/api/v1/ui/extensions?page_size=100', admin);
    assert.equal(res.status, 200);
    const items = res.body as Listed[];
    assert.deepEqual(
      items.map((e) => `${e.plugin}/${e.slot}/${e.id}`),
      ['webhooks/project-tab/policies', 'ext-page/navigation/hello', 'ext-page/repository-tab/scan'],
    );
    const webhooks = items[0] as Listed;
    assert.equal(webhooks.module, '/_ext/ui/extensions/webhooks/0/webhooks-tab.js');
    assert.deepEqual(webhooks.roles, ['projectAdmin', 'maintainer']);
    assert.deepEqual(items[1]?.label, { en: 'Hello', 'zh-CN': '你好' });
    assert.equal(items[1]?.export, 'mount');
    assert.equal(items[1]?.roles, undefined);
    assert.equal(res.headers.get('x-total-count'), '3');
    // A contribution whose module is not there is left out, with a warning naming the plugin.
    assert.ok(logs.records().some((l) => l['plugin'] === 'ext-missing' && /not there/.test(String(l['msg']))));
  });

  it('serves a module, and what it imports, as JavaScript with the page CSP, revalidated', async () => {
    for (const path of ['/_ext/ui/extensions/webhooks/0/webhooks-tab.js', '/_ext/ui/extensions/ext-page/0/page.js', '/_ext/ui/extensions/ext-page/0/nested/label.js']) {
      const res = await call(registry.url, 'GET', path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8', path);
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    }
    assert.match((await call(registry.url, 'GET', '/_ext/ui/extensions/webhooks/0/webhooks-tab.js')).text, /export function mount/);
    const css = await call(registry.url, 'GET', '/_ext/ui/extensions/ext-page/0/style.css');
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  });

  it('refuses everything outside the directory: traversal, symlinks out, dot files, other kinds of file', async () => {
    const refused = [
      '/_ext/ui/extensions/ext-page/0/../secret.js',
      '/_ext/ui/extensions/ext-page/0/%2e%2e/secret.js',
      '/_ext/ui/extensions/ext-page/0/%2E%2E%2Fsecret.js',
      '/_ext/ui/extensions/ext-page/0/nested/..%2f..%2fsecret.js',
      '/_ext/ui/extensions/ext-page/0/..%5csecret.js',
      '/_ext/ui/extensions/ext-page/0/link.js',
      '/_ext/ui/extensions/ext-page/0/.env',
      '/_ext/ui/extensions/ext-page/0/source.ts',
      '/_ext/ui/extensions/ext-page/0/page.js%00.css',
      '/_ext/ui/extensions/ext-page/1/page.js',
      '/_ext/ui/extensions/ext-missing/0/not-built.js',
      '/_ext/ui/extensions/nobody/0/page.js',
      '/_ext/ui/extensions/ext-page/0/%zz.js',
    ];
    for (const path of refused) {
      const res = await call(registry.url, 'GET', path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.text, /outside-the-directory|hidden-dotfile/, path);
    }
  });
});

describe('a plugin that is not loaded', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await boot([]);
  });
  after(() => registry?.close());

  it('contributes nothing: no slot listed, its module not served', async () => {
    const res = await call(registry.url, 'GET', '/api/v1/ui/extensions', admin);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, []);
    assert.equal((await call(registry.url, 'GET', '/_ext/ui/extensions/webhooks/0/webhooks-tab.js')).status, 404);
  });
});
