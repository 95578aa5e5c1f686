import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import {
  GROUPS_DN,
  PASSWORDS as LDAP_PASSWORDS,
  PEOPLE_DN,
  SEARCH_DN,
  SEARCH_PASSWORD,
  startSlapd,
  type Slapd,
} from '@wharf/plugin-auth-ldap/test-support/slapd';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { describeRun, run, type RunResult } from '../helpers/run.js';
import { startWharf, type Credentials, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { api } from '../helpers/wharf-api.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

/**
 * Real clients log in to Wharf (token auth on, `auth: [db, ldap]`, `rbac: projects`) as the three
 * kinds of identity it has: a database user, an LDAP user (slapd, started here) and a project
 * robot. `docker login`, `podman login` and `skopeo login` each succeed with the right password
 * and fail with a wrong one (rc 1; podman uses 125 for every failure). Then the credentials are
 * used for real with skopeo: the robot pushes into a private project, the LDAP user pulls it as
 * a member through his LDAP group, and a database user who is no member is refused. The LDAP
 * user is recorded in /api/v1/users at his first login, and the server log holds no password
 * and no robot secret.
 */

const PROJECT = 'logins';
const REPO = `${PROJECT}/app`;
/** The LDAP group (its cn) that makes bob a member of the project. */
const LDAP_GROUP = 'devs';
const WRONG = 'Wrong-Passw0rd-must-not-be-logged';

type Identity = 'db' | 'ldap' | 'robot';
/** The database user: not a member of the project. */
const DB_USER: Credentials = { username: 'dora', password: 'Dora-E2e-Passw0rd' };
/** The LDAP user: in `devs` only (not in `registry-admins`), unknown to Wharf before logging in. */
const LDAP_USER: Credentials = { username: 'bob', password: LDAP_PASSWORDS['bob']! };

let slapd: Slapd | undefined;
let server: RegistryHandle | undefined;
let work: string;
let layout: OciLayout;
let image: BuiltImage;
let robot: Credentials;
const srv = (): RegistryHandle => {
  assert.ok(server, 'Wharf did not start');
  return server;
};
const identities = (): Record<Identity, Credentials> => ({ db: DB_USER, ldap: LDAP_USER, robot });

// Client sandboxes made by the tests, removed in after().
const sandboxes: ClientSandbox[] = [];
async function newSandbox(): Promise<ClientSandbox> {
  const sandbox = await createClientSandbox();
  sandboxes.push(sandbox);
  return sandbox;
}

before(async () => {
  work = await makeTempDir('logins');
  slapd = await startSlapd();
  server = await startWharf({
    config: {
      log: { level: 'debug', format: 'json' },
      auth: [
        { db: {} },
        {
          ldap: {
            url: slapd.url,
            bindDN: SEARCH_DN,
            bindPassword: SEARCH_PASSWORD,
            userBase: PEOPLE_DN,
            groups: { mode: 'memberOf', base: GROUPS_DN },
          },
        },
      ],
      rbac: { projects: {} },
    },
  });
  // The operator's setup: a private project the LDAP group `devs` may pull from, a robot that
  // may push into it, and a database user who is no member.
  const s = server;
  await api(s, 'POST', '/users', DB_USER, { expect: 201 });
  await api(s, 'POST', '/projects', { name: PROJECT, public: false }, { expect: 201 });
  await api(s, 'POST', '/usergroups', { name: LDAP_GROUP, type: 'ldap', externalId: `cn=${LDAP_GROUP},${GROUPS_DN}` }, { expect: 201 });
  await api(s, 'POST', `/projects/${PROJECT}/members`, { roleName: 'guest', memberGroup: { groupName: LDAP_GROUP } }, { expect: 201 });
  const created = await api(s, 'POST', `/projects/${PROJECT}/robots`, {
    name: 'ci',
    duration: 1,
    permissions: [{ kind: 'project', namespace: PROJECT, access: [{ resource: 'repository', action: 'pull' }, { resource: 'repository', action: 'push' }] }],
  }, { expect: 201 });
  const { robot: info, secret } = created.json as { robot: { name: string }; secret: string };
  robot = { username: info.name, password: secret };
  ({ layout, image } = await singleImageLayout(join(work, 'src')));
});

after(async () => {
  await server?.stop();
  await slapd?.stop();
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  if (work) await removeDir(work);
});

function assertOk(r: RunResult): RunResult {
  assert.equal(r.code, 0, describeRun(r));
  return r;
}

/** The users Wharf lists under a name (exact match), as the administrator sees them. */
async function listedUsers(username: string): Promise<{ username: string; provider: string; admin: boolean }[]> {
  const res = await api(srv(), 'GET', `/users?q=${encodeURIComponent(`username=${username}`)}`, undefined, { expect: 200 });
  return res.json as { username: string; provider: string; admin: boolean }[];
}

// --- Logins: every client as every identity -------------------------------------------------

interface LoginClient {
  readonly name: string;
  /** Exit code of a refused login. */
  readonly refusedCode: number;
  /** What the client says when the registry refuses the password. */
  readonly refusal: RegExp;
  /** A fresh, isolated place for the client's credentials. */
  prepare(): Promise<{ login(who: Credentials): Promise<RunResult>; savedHosts(): Promise<string[]> }>;
}

const authHosts = async (file: string): Promise<string[]> =>
  Object.keys((JSON.parse(await readFile(file, 'utf8')) as { auths?: Record<string, unknown> }).auths ?? {});

const clients: readonly LoginClient[] = [
  {
    name: 'docker',
    refusedCode: 1,
    refusal: /unauthorized: invalid username or password/,
    async prepare() {
      const config = await mkdtemp(join(work, 'docker-'));
      const env = { ...process.env, DOCKER_CONFIG: config };
      return {
        login: (who) => run('docker', ['login', '-u', who.username, '--password-stdin', srv().host], { env, timeoutMs: 30_000, input: `${who.password}\n` }),
        // Docker keys the entry by host, or by http://host after its plain-HTTP fallback.
        savedHosts: async () => (await authHosts(join(config, 'config.json'))).map((h) => h.replace(/^http:\/\//, '')),
      };
    },
  },
  {
    name: 'podman',
    refusedCode: 125,
    refusal: /invalid username\/password/,
    async prepare() {
      const sandbox = await newSandbox();
      return {
        login: (who) => sandbox.podman(['login', '--tls-verify=false', '-u', who.username, '--password-stdin', srv().host], { input: `${who.password}\n`, timeoutMs: 30_000 }),
        savedHosts: () => authHosts(sandbox.env['REGISTRY_AUTH_FILE']!),
      };
    },
  },
  {
    name: 'skopeo',
    refusedCode: 1,
    refusal: /invalid username\/password/,
    async prepare() {
      const sandbox = await newSandbox();
      return {
        login: (who) => sandbox.skopeo(['login', '--tls-verify=false', '-u', who.username, '--password-stdin', srv().host], { input: `${who.password}\n`, timeoutMs: 30_000 }),
        savedHosts: () => authHosts(sandbox.env['REGISTRY_AUTH_FILE']!),
      };
    },
  },
];

registryTest('before logging in, the LDAP user is unknown to Wharf', srv, async () => {
  assert.deepEqual(await listedUsers(LDAP_USER.username), []);
});

// Every wrong password raises the failed-login slowdown of 127.0.0.1 (up to 4 s per check that is
// not in the credential cache), so the later rows take a few seconds each: that is the product.
for (const identity of ['db', 'ldap', 'robot'] as const) {
  for (const client of clients) {
    registryTest(`${client.name} login as the ${identity} user: rc 0 with the right password, rc ${client.refusedCode} with a wrong one`, srv, async () => {
      const who = identities()[identity];
      const session = await client.prepare();
      const ok = assertOk(await session.login(who));
      assert.match(ok.stdout, /Login Succeeded/i, describeRun(ok));
      assert.deepEqual(await session.savedHosts(), [srv().host], 'the login was not saved for the registry');

      const refused = await session.login({ username: who.username, password: WRONG });
      assert.equal(refused.code, client.refusedCode, describeRun(refused));
      assert.match(refused.stderr, client.refusal, describeRun(refused));
    });
  }
}

registryTest('the LDAP user is recorded at his first login, with his provider; robots are no users', srv, async () => {
  const [bob, ...others] = await listedUsers(LDAP_USER.username);
  assert.deepEqual(others, []);
  assert.equal(bob?.provider, 'ldap', JSON.stringify(bob));
  assert.equal(bob?.admin, false, 'bob is in no admin group');
  const [dora] = await listedUsers(DB_USER.username);
  assert.equal(dora?.provider, 'db', JSON.stringify(dora));
  const all = await api(srv(), 'GET', '/users?page_size=100', undefined, { expect: 200 });
  const names = (all.json as { username: string }[]).map((u) => u.username);
  assert.ok(!names.some((n) => n.startsWith('robot$')), `a robot is listed as a user: ${names.join(', ')}`);
});

// --- The credentials at work: push as the robot, pull through the LDAP group -------------------

const ref = (tag: string): string => `docker://${srv().host}/${REPO}:${tag}`;

registryTest('the robot, logged in with skopeo, pushes into the private project', srv, async () => {
  const sandbox = await newSandbox();
  await sandbox.login(srv().host, robot);
  const digestFile = join(work, 'pushed.digest');
  assertOk(await sandbox.skopeo(['copy', '--dest-tls-verify=false', '--digestfile', digestFile, layout.ref('v1'), ref('v1')]));
  assert.equal((await readFile(digestFile, 'utf8')).trim(), image.manifest.digest);
  // Anonymous clients see nothing of a private project.
  const anonymous = await sandbox.skopeo(['inspect', '--tls-verify=false', '--no-creds', ref('v1')]);
  assert.notEqual(anonymous.code, 0, describeRun(anonymous));
});

registryTest('the LDAP user pulls it as a member through his LDAP group, but cannot push (guest)', srv, async () => {
  const sandbox = await newSandbox();
  await sandbox.login(srv().host, LDAP_USER);
  const back = join(work, 'pulled-by-bob');
  assertOk(await sandbox.skopeo(['copy', '--src-tls-verify=false', ref('v1'), `oci:${back}:v1`]));
  const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]?.digest, image.manifest.digest);

  const push = await sandbox.skopeo(['copy', '--dest-tls-verify=false', layout.ref('v1'), ref('by-bob')]);
  assert.notEqual(push.code, 0, describeRun(push));
  assert.match(push.stderr, /denied|unauthorized/i, describeRun(push));
});

registryTest("after docker login, the LDAP user's stored identity token keeps his group access in skopeo and podman", srv, async () => {
  // docker keeps the refresh token (identitytoken) in config.json; clients then use the refresh
  // grant, which must resolve LDAP groups as the password grant does.
  const config = await mkdtemp(join(work, 'docker-identity-'));
  const env = { ...process.env, DOCKER_CONFIG: config };
  assertOk(await run('docker', ['login', '-u', LDAP_USER.username, '--password-stdin', srv().host], { env, timeoutMs: 30_000, input: `${LDAP_USER.password}\n` }));
  const file = join(config, 'config.json');
  const auths = (JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, { identitytoken?: string }> }).auths;
  const entry = Object.entries(auths).find(([host]) => host.replace(/^http:\/\//, '') === srv().host)?.[1];
  assert.ok(entry?.identitytoken, `docker stored no identity token: ${JSON.stringify(Object.keys(auths))}`);

  const sandbox = await newSandbox();
  const withDockerConfig = { env: { REGISTRY_AUTH_FILE: file } };
  assertOk(await sandbox.skopeo(['copy', '--src-tls-verify=false', ref('v1'), `oci:${join(work, 'pulled-by-identity')}:v1`], withDockerConfig));
  assertOk(await sandbox.podman(['pull', '--tls-verify=false', `${srv().host}/${REPO}:v1`], { ...withDockerConfig, timeoutMs: 120_000 }));
});

registryTest('a database user who is no member is denied pulling from the private project', srv, async () => {
  const sandbox = await newSandbox();
  await sandbox.login(srv().host, DB_USER);
  const pull = await sandbox.skopeo(['copy', '--src-tls-verify=false', ref('v1'), `oci:${join(work, 'pulled-by-dora')}:v1`]);
  assert.notEqual(pull.code, 0, describeRun(pull));
  assert.match(pull.stderr, /denied|unauthorized/i, describeRun(pull));
});

registryTest('the server log holds failed logins, but no password and no robot secret', srv, async () => {
  const log = await readFile(srv().logFile, 'utf8');
  const failures = log.split('\n').filter((l) => l.includes('"login failed"'));
  for (const who of Object.values(identities())) {
    assert.ok(failures.some((l) => l.includes(JSON.stringify(who.username).slice(1, -1))), `no failed login of ${who.username} logged:\n${failures.join('\n')}`);
  }
  const secrets: Record<string, string> = {
    'the wrong password': WRONG,
    "the database user's password": DB_USER.password,
    "the LDAP user's password": LDAP_USER.password,
    'the robot secret': robot.password,
    "the administrator's password": srv().admin!.password,
    "the LDAP search account's password": SEARCH_PASSWORD,
  };
  for (const [what, secret] of Object.entries(secrets)) assert.ok(!log.includes(secret), `${what} reached the log`);
  assert.ok(!/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/.test(log), 'a JWT reached the log');
});
