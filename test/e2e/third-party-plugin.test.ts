import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before } from 'node:test';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { describeRun, runOk, stdoutJson } from '../helpers/run.js';
import { repoRoot, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir, uniqueRepo } from '../helpers/temp.js';
import { api } from '../helpers/wharf-api.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

// The proof for plugin authors: examples/htpasswd-auth packed and installed like a third-party
// package (next to a packed @wharf/sdk, in a directory outside the workspace), named in a
// wharf.yaml there, loaded by `wharf serve`, and used by skopeo to log in, push and pull.

const ALICE = { username: 'alice', password: 'Alice-htpasswd-1' }; // an admin of the config
const BOB = { username: 'bob', password: 'Bob-htpasswd-2' };
const PACKAGE = 'wharf-plugin-auth-htpasswd';

let work: string | undefined;
let site: string;
let clients: ClientSandbox | undefined;
let server: RegistryHandle | undefined;
let layout: OciLayout;
let image: BuiltImage;
const srv = (): RegistryHandle => {
  assert.ok(server, 'registry not started');
  return server;
};

/** npm as a user would run it: without the npm_* variables `npm test` passes down (local prefix, workspace). */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_registry', 'npm_config_cafile']);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.has(k.toLowerCase())));
}

before(async () => {
  work = await makeTempDir('third-party');
  const packs = join(work, 'packs');
  site = join(work, 'site');
  await mkdir(packs);
  await mkdir(site);
  assert.ok(relative(repoRoot, site).startsWith('..'), `${site} must be outside the workspace`);

  const env = npmEnv();
  const packed = await runOk('npm', ['pack', '--json', '--pack-destination', packs, '-w', 'sdk/api', '-w', 'examples/htpasswd-auth'], { cwd: repoRoot, env });
  const tarballs = stdoutJson<{ filename: string }[]>(packed).map((p) => join(packs, p.filename));
  assert.equal(tarballs.length, 2, describeRun(packed));
  await writeFile(join(site, 'package.json'), `${JSON.stringify({ name: 'wharf-site', private: true }, null, 2)}\n`);
  await runOk('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], { cwd: site, env, timeoutMs: 300_000 });

  const htpasswd = join(site, 'htpasswd');
  await runOk('htpasswd', ['-B', '-b', '-c', htpasswd, ALICE.username, ALICE.password]);
  await runOk('htpasswd', ['-B', '-b', htpasswd, BOB.username, BOB.password]);
  // Named by its id: the kernel finds wharf-plugin-auth-htpasswd in the node_modules next to the
  // file. rbac is left at its default (projects), where config admins may create projects.
  await writeFile(join(site, 'wharf.yaml'), [
    'auth:',
    '  - htpasswd:',
    `      file: ${JSON.stringify(htpasswd)}`,
    `      admins: [${ALICE.username}]`,
    '',
  ].join('\n'));

  server = await startWharf({ configFile: join(site, 'wharf.yaml') });
  clients = await createClientSandbox();
  ({ layout, image } = await singleImageLayout(join(work, 'src')));
  await api(srv(), 'POST', '/projects', { name: 'e2e' }, { as: ALICE, expect: 201 });
});

after(async () => {
  await server?.stop();
  await clients?.cleanup();
  if (work) await removeDir(work);
});

const sandbox = (): ClientSandbox => {
  assert.ok(clients, 'client sandbox not set up');
  return clients;
};

registryTest('the plugin and its own @wharf/sdk come from the packed tarballs, not the workspace', srv, async () => {
  for (const pkg of [PACKAGE, '@wharf/sdk']) {
    const dir = join(site, 'node_modules', pkg);
    assert.equal((await lstat(dir)).isSymbolicLink(), false, `${dir} is a link`);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string };
    assert.equal(manifest.version, '0.1.0');
  }
  assert.match(await srv().logTail(400), /htpasswd/, 'the boot log names the plugin');
});

registryTest('skopeo logs in as an htpasswd user and copies an image in and back out, digests equal', srv, async () => {
  const c = sandbox();
  await c.login(srv().host, ALICE);
  const dest = `docker://${srv().host}/${uniqueRepo('htpasswd')}:v1`;
  const digestFile = join(work ?? '', 'pushed.digest');
  await c.skopeoOk(['copy', '--dest-tls-verify=false', '--digestfile', digestFile, layout.ref('v1'), dest]);
  const pushed = (await readFile(digestFile, 'utf8')).trim();
  assert.equal(pushed, image.manifest.digest);

  const back = join(work ?? '', 'back');
  await c.skopeoOk(['copy', '--src-tls-verify=false', dest, `oci:${back}:v1`]);
  const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]?.digest, pushed);
});

registryTest('a wrong password and an unknown user fail skopeo login', srv, async () => {
  const c = sandbox();
  for (const who of [{ ...ALICE, password: 'wrong-password' }, { username: 'mallory', password: ALICE.password }]) {
    const r = await c.skopeo(['login', '--tls-verify=false', '--username', who.username, '--password-stdin', srv().host], { input: who.password });
    assert.notEqual(r.code, 0, `login as ${who.username} must fail\n${describeRun(r)}`);
    // skopeo's words for a 401 from the token endpoint (a 5xx would read differently).
    assert.match(r.stderr, /invalid username\/password/i, describeRun(r));
  }
});

registryTest('a user of the file who is not an admin logs in but may not push to a project he is no member of', srv, async () => {
  const c = await createClientSandbox();
  try {
    await c.login(srv().host, BOB);
    const r = await c.skopeo(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${srv().host}/e2e/bob:v1`]);
    assert.notEqual(r.code, 0, describeRun(r));
    assert.match(r.stderr, /denied/i, describeRun(r));
  } finally {
    await c.cleanup();
  }
});

registryTest('wharf serve refuses to start on an htpasswd file with a non-bcrypt entry, naming the line', srv, async () => {
  const bad = join(site, 'htpasswd-md5');
  await runOk('htpasswd', ['-B', '-b', '-c', bad, ALICE.username, ALICE.password]);
  await runOk('htpasswd', ['-m', '-b', bad, BOB.username, BOB.password]);
  const config = join(site, 'wharf-md5.yaml');
  await writeFile(config, `auth:\n  - htpasswd:\n      file: ${JSON.stringify(bad)}\n`);
  await assert.rejects(startWharf({ configFile: config, readyTimeoutMs: 20_000 }), (err: Error) => {
    assert.match(err.message, /did not start/);
    assert.match(err.message, new RegExp(`plugin "htpasswd": lifecycle.ready failed: ${bad} line 2: user "bob" has Apache MD5`));
    return true;
  });
});
