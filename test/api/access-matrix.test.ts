import assert, { AssertionError } from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selectedDatabases, type TestDatabaseName } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, assertEnvelope, basic, bearer, call, startApiRegistry, type ApiRegistry, type ApiResponse } from './support/api-kit.js';
import { imageParts, sha256 } from './support/oci.js';

/**
 * The role × action access matrix of the projects RBAC plugin (`rbac: { projects: {} }`), over
 * real HTTP against a real registry with the db auth plugin and token auth on (the default):
 * every principal (system administrator, the five project roles, a logged-in non-member,
 * anonymous, project robots with pull / pull+push / pull+push+delete, a robot of the other
 * project, disabled robots) in a private and a public project, for pull, push (blob upload and
 * manifest PUT), delete (manifest by digest), adding a member and creating a robot; allowed and
 * denied.
 *
 * `/v2/` is exercised twice: with Basic credentials directly (anonymous: no Authorization at
 * all) and with a Bearer token from `/service/token` asking `pull,push,delete`, whose `access`
 * claim must hold exactly the allowed actions. Denials follow the distribution/OCI rules:
 * - Basic credentials of a principal lacking the permission: 403 `DENIED`;
 * - no credentials: 401 `UNAUTHORIZED` with a Bearer challenge naming the scope the request needs
 *   (docker asks for a token even to pull a public image, so anonymous Basic-less requests are
 *   always challenged; anonymous pulls of public images go through an anonymous token);
 * - a token without the action: 401 `UNAUTHORIZED`, challenge with `error="insufficient_scope"`
 *   (what distribution answers and what makes docker fetch a new token).
 *
 * The expected values are NOT read from the plugin's roles.ts: they are written down below from
 * Harbor's matrix (harbor.md section 1.4), so a drift of roles.ts shows up here.
 *
 * One registry per selected database (WHARF_TEST_DATABASES, default sqlite, postgres, mysql):
 * each costs a few seconds, so all of them run.
 */

// ---------------------------------------------------------------------------------------------
// Expected values, from harbor.md 1.4 (independently of plugins/rbac-projects/src/roles.ts)
// ---------------------------------------------------------------------------------------------

type Action = 'pull' | 'push' | 'delete';
const ACTIONS: readonly Action[] = ['pull', 'push', 'delete'];

type RoleKey = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';

interface HarborRole {
  /** Harbor's role id (Project Admin 1, Developer 2, Guest 3, Maintainer 4, Limited Guest 5). */
  readonly id: number;
  readonly title: string;
  /** The db user holding this role in both projects. */
  readonly user: string;
  /** `repository` pull/push, and delete = `artifact`/`tag` D. */
  readonly registry: readonly Action[];
  /** `member` C. */
  readonly addMember: boolean;
  /** `robot` C. */
  readonly createRobot: boolean;
}

const HARBOR_ROLES: Readonly<Record<RoleKey, HarborRole>> = {
  projectAdmin: { id: 1, title: 'Project Admin', user: 'projadmin', registry: ['pull', 'push', 'delete'], addMember: true, createRobot: true },
  maintainer: { id: 4, title: 'Maintainer', user: 'maintainer', registry: ['pull', 'push', 'delete'], addMember: false, createRobot: false },
  developer: { id: 2, title: 'Developer', user: 'developer', registry: ['pull', 'push'], addMember: false, createRobot: false },
  guest: { id: 3, title: 'Guest', user: 'guest', registry: ['pull'], addMember: false, createRobot: false },
  limitedGuest: { id: 5, title: 'Limited Guest', user: 'limitedguest', registry: ['pull'], addMember: false, createRobot: false },
};

/** What anyone (anonymous included, robots excluded) may do on /v2/ in a public project: repository pull. */
const PUBLIC_ANYONE: readonly Action[] = ['pull'];

// ---------------------------------------------------------------------------------------------
// Principals and projects
// ---------------------------------------------------------------------------------------------

interface ProjectDef {
  readonly key: 'private' | 'public';
  readonly name: string;
  readonly public: boolean;
  readonly repo: string;
}

const PROJECTS: readonly ProjectDef[] = [
  { key: 'private', name: 'secret', public: false, repo: 'secret/app' },
  { key: 'public', name: 'open', public: true, repo: 'open/app' },
];
const other = (p: ProjectDef): ProjectDef => PROJECTS.find((q) => q.key !== p.key)!;

/** `basic`: Basic credentials on /v2/; `none`: no Authorization header; `bearer`: a token from /service/token. */
type Mode = 'basic' | 'none' | 'bearer';
type ApiOutcome = 'allow' | 'forbidden' | 'unauthorized';

type RobotKind = 'pull' | 'push' | 'delete';
const ROBOT_ACCESS: Readonly<Record<RobotKind, readonly Action[]>> = { pull: ['pull'], push: ['pull', 'push'], delete: ['pull', 'push', 'delete'] };

type Who =
  | { readonly kind: 'admin' }
  | { readonly kind: 'member'; readonly role: RoleKey }
  | { readonly kind: 'outsider' }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'robot'; readonly robot: RobotKind }
  | { readonly kind: 'foreignRobot' };

interface Principal {
  /** Short id, used in tags, member and robot names. */
  readonly id: string;
  readonly label: string;
  readonly who: Who;
  readonly modes: readonly Mode[];
}

const PRINCIPALS: readonly Principal[] = [
  { id: 'admin', label: 'system admin', who: { kind: 'admin' }, modes: ['basic', 'bearer'] },
  ...(Object.keys(HARBOR_ROLES) as RoleKey[]).map((role): Principal => ({
    id: HARBOR_ROLES[role].user,
    label: `${HARBOR_ROLES[role].title} (role ${HARBOR_ROLES[role].id})`,
    who: { kind: 'member', role },
    modes: ['basic', 'bearer'],
  })),
  { id: 'outsider', label: 'logged-in non-member', who: { kind: 'outsider' }, modes: ['basic', 'bearer'] },
  { id: 'anonymous', label: 'anonymous', who: { kind: 'anonymous' }, modes: ['none', 'bearer'] },
  ...(['pull', 'push', 'delete'] as const).map((robot): Principal => ({
    id: `robot-${robot}`,
    label: `project robot [${ROBOT_ACCESS[robot].join('+')}]`,
    who: { kind: 'robot', robot },
    modes: ['basic', 'bearer'],
  })),
  { id: 'robot-foreign', label: "the other project's robot [pull+push+delete]", who: { kind: 'foreignRobot' }, modes: ['basic', 'bearer'] },
];

interface Expected {
  /** Registry actions allowed (with credentials or a token). */
  readonly registry: readonly Action[];
  readonly addMember: ApiOutcome;
  readonly createRobot: ApiOutcome;
}

const canonical = (actions: Iterable<Action>): Action[] => {
  const set = new Set(actions);
  return ACTIONS.filter((a) => set.has(a));
};

function expected(principal: Principal, project: ProjectDef): Expected {
  const publicPull = project.public ? PUBLIC_ANYONE : [];
  const w = principal.who;
  switch (w.kind) {
    case 'admin':
      return { registry: ACTIONS, addMember: 'allow', createRobot: 'allow' };
    case 'member': {
      const role = HARBOR_ROLES[w.role];
      return {
        registry: canonical([...role.registry, ...publicPull]),
        addMember: role.addMember ? 'allow' : 'forbidden',
        createRobot: role.createRobot ? 'allow' : 'forbidden',
      };
    }
    case 'outsider':
      return { registry: publicPull, addMember: 'forbidden', createRobot: 'forbidden' };
    case 'anonymous':
      return { registry: publicPull, addMember: 'unauthorized', createRobot: 'unauthorized' };
    // Robots: exactly their explicit permissions, nothing from the public-project policy.
    case 'robot':
      return { registry: ROBOT_ACCESS[w.robot], addMember: 'forbidden', createRobot: 'forbidden' };
    case 'foreignRobot':
      return { registry: [], addMember: 'forbidden', createRobot: 'forbidden' };
  }
}

/** Registry actions allowed in one mode: without any credentials every /v2/ request is challenged. */
const allowedIn = (principal: Principal, project: ProjectDef, mode: Mode): readonly Action[] => (mode === 'none' ? [] : expected(principal, project).registry);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const PASSWORD = 'Matrix-Pass-1';
const ADMIN = basic('admin', ADMIN_PASSWORD);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Runs assertions, prefixing any failure with who/where/what, so a table row failing is readable. */
async function within(context: string, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AssertionError) {
      throw new AssertionError({ message: `${context}\n${err.message}`, actual: err.actual, expected: err.expected, operator: err.operator });
    }
    throw err;
  }
}

function describeResponse(res: ApiResponse): string {
  const challenge = res.headers.get('www-authenticate');
  return `got ${res.status}${challenge ? `\n  WWW-Authenticate: ${challenge}` : ''}\n  body: ${res.text.slice(0, 600) || '(empty)'}`;
}

interface TokenResult {
  readonly status: number;
  readonly text: string;
  readonly token?: string;
  readonly access?: unknown;
}

/** The claims of a JWT, unverified (the payload is what the test looks at). */
function payloadOf(token: string): { sub?: unknown; access?: unknown } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown; access?: unknown };
}

for (const database of selectedDatabases()) {
  describeMatrix(database);
}

function describeMatrix(database: TestDatabaseName): void {
  describe(`RBAC access matrix over HTTP (${database})`, () => {
    let reg: ApiRegistry | undefined;
    let url = '';
    /** Robot credentials by project key and robot short name. */
    const robots = new Map<string, { name: string; secret: string }>();
    /** The base image of each project (pushed by the admin as `app:v1`). */
    const base = new Map<string, { digest: string; body: Buffer }>();
    /** Tags that allowed manifest PUTs created, per project: the final check expects exactly these. */
    const pushedTags = new Map<string, Set<string>>(PROJECTS.map((p) => [p.key, new Set(['v1'])]));
    const tokens = new Map<string, Promise<TokenResult>>();

    // Every request its own client address: failed logins slow an address down for everyone.
    let address = 0;
    const nextIp = () => {
      address++;
      return `198.18.${Math.floor(address / 250) % 250}.${(address % 250) + 1}`;
    };
    const send = (method: string, path: string, options: { auth?: string | undefined; body?: unknown; headers?: Record<string, string> } = {}) =>
      call(url, method, path, {
        ...(options.auth ? { auth: options.auth } : {}),
        ...(options.body === undefined ? {} : { body: options.body }),
        headers: { 'x-forwarded-for': nextIp(), ...options.headers },
      });

    const robotKey = (p: ProjectDef, name: string) => `${p.key}:${name}`;
    const robotAuth = (p: ProjectDef, name: string): string => {
      const robot = robots.get(robotKey(p, name));
      assert.ok(robot, `robot "${name}" of the ${p.key} project was not created (see the before hook)`);
      return basic(robot.name, robot.secret);
    };

    /** The Basic credentials of a principal in a project; undefined for anonymous. */
    const credentials = (principal: Principal, p: ProjectDef): string | undefined => {
      const w = principal.who;
      switch (w.kind) {
        case 'admin':
          return ADMIN;
        case 'member':
          return basic(HARBOR_ROLES[w.role].user, PASSWORD);
        case 'outsider':
          return basic('outsider', PASSWORD);
        case 'anonymous':
          return undefined;
        case 'robot':
          return robotAuth(p, w.robot);
        case 'foreignRobot':
          return robotAuth(other(p), 'delete');
      }
    };

    const scopeOf = (p: ProjectDef) => `repository:${p.repo}:pull,push,delete`;

    /** One token per principal and project (asking pull, push and delete), fetched once. */
    const tokenFor = (principal: Principal, p: ProjectDef): Promise<TokenResult> => {
      const key = `${principal.id}@${p.key}`;
      let pending = tokens.get(key);
      if (!pending) {
        pending = (async () => {
          const res = await send('GET', `/service/token?service=wharf&scope=${encodeURIComponent(scopeOf(p))}`, { auth: credentials(principal, p) });
          if (res.status !== 200 || typeof res.body?.token !== 'string') return { status: res.status, text: res.text };
          return { status: res.status, text: res.text, token: res.body.token as string, access: payloadOf(res.body.token as string).access };
        })();
        tokens.set(key, pending);
      }
      return pending;
    };

    /** The Authorization header of a principal for /v2/ in a mode. */
    const authFor = async (principal: Principal, p: ProjectDef, mode: Mode, context: string): Promise<string | undefined> => {
      if (mode === 'none') return undefined;
      if (mode === 'basic') return credentials(principal, p);
      const t = await tokenFor(principal, p);
      if (!t.token) assert.fail(`${context}\n  no token to test with: /service/token answered ${t.status}: ${t.text.slice(0, 600)}`);
      return bearer(t.token);
    };

    const challenge = (repo: string, action: Action, error?: string) =>
      `Bearer realm="${url}/service/token",service="wharf",scope="repository:${repo}:${action}"${error ? `,error="${error}"` : ''}`;

    /** Asserts the allow or the spec's deny answer of a /v2/ request. */
    const expectRegistry = (res: ApiResponse, context: string, allowed: boolean, okStatus: number, mode: Mode, repo: string, action: Action) => {
      const expectation = allowed ? `allow (${okStatus})` : mode === 'basic' ? 'deny (403 DENIED)' : `deny (401 UNAUTHORIZED, Bearer challenge${mode === 'bearer' ? ', insufficient_scope' : ''})`;
      const msg = `${context}\n  expected ${expectation}, ${describeResponse(res)}`;
      if (allowed) {
        assert.equal(res.status, okStatus, msg);
        return;
      }
      if (mode === 'basic') {
        assert.equal(res.status, 403, msg);
        assert.equal(res.body?.errors?.[0]?.code, 'DENIED', msg);
        assert.deepEqual(res.body.errors[0].detail, [{ type: 'repository', name: repo, action }], msg);
        return;
      }
      assert.equal(res.status, 401, msg);
      assert.equal(res.body?.errors?.[0]?.code, 'UNAUTHORIZED', msg);
      if (mode !== 'bearer') {
        assert.equal(res.headers.get('www-authenticate'), challenge(repo, action), msg);
        return;
      }
      // The token asked for the action, so the token service recorded why it was refused.
      const header = res.headers.get('www-authenticate') ?? '';
      assert.ok(header.startsWith(`${challenge(repo, action, 'insufficient_scope')},error_description="`), msg);
      assert.match(res.body.errors[0].message, /^token does not grant the requested access: ./, msg);
    };

    /** Pushes an image with the admin's Basic credentials (monolithic blob uploads, then the manifest). */
    const adminPush = async (repo: string, tag: string, seed: string) => {
      const image = imageParts(seed);
      for (const blob of [image.config, image.layer]) {
        const res = await send('POST', `/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { auth: ADMIN, body: blob, headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(res.status, 201, `setup: admin blob upload to ${repo}: ${describeResponse(res)}`);
      }
      const res = await send('PUT', `/v2/${repo}/manifests/${tag}`, { auth: ADMIN, body: image.body, headers: { 'content-type': OCI_MANIFEST } });
      assert.equal(res.status, 201, `setup: admin manifest PUT ${repo}:${tag}: ${describeResponse(res)}`);
      return { digest: image.digest, body: image.body };
    };

    const createRobot = async (p: ProjectDef, name: string, access: readonly Action[], disabled = false) => {
      const res = await send('POST', `/api/v1/projects/${p.name}/robots`, {
        auth: ADMIN,
        body: { name, duration: -1, permissions: [{ kind: 'project', namespace: p.name, access: access.map((action) => ({ resource: 'repository', action })) }] },
      });
      assert.equal(res.status, 201, `setup: robot ${name} in ${p.name}: ${describeResponse(res)}`);
      robots.set(robotKey(p, name), { name: res.body.robot.name as string, secret: res.body.secret as string });
      if (disabled) {
        const off = await send('PATCH', `/api/v1/projects/${p.name}/robots/${res.body.robot.id}`, { auth: ADMIN, body: { disabled: true } });
        assert.equal(off.status, 200, `setup: disabling robot ${name}: ${describeResponse(off)}`);
        assert.equal(off.body.disabled, true);
      }
    };

    before(async () => {
      reg = await startApiRegistry(database, { overrides: { rbac: { projects: {} } } });
      url = reg.url;
      const users = [...Object.values(HARBOR_ROLES).map((r) => r.user), 'outsider'];
      await Promise.all(
        users.map(async (username) => {
          const res = await send('POST', '/api/v1/users', { auth: ADMIN, body: { username, password: PASSWORD } });
          assert.equal(res.status, 201, `setup: user ${username}: ${describeResponse(res)}`);
        }),
      );
      for (const p of PROJECTS) {
        const res = await send('POST', '/api/v1/projects', { auth: ADMIN, body: { name: p.name, public: p.public } });
        assert.equal(res.status, 201, `setup: project ${p.name}: ${describeResponse(res)}`);
        assert.equal(res.body.public, p.public);
        for (const role of Object.values(HARBOR_ROLES)) {
          const m = await send('POST', `/api/v1/projects/${p.name}/members`, { auth: ADMIN, body: { memberUser: { username: role.user }, roleId: role.id } });
          assert.equal(m.status, 201, `setup: ${role.user} as ${role.title} of ${p.name}: ${describeResponse(m)}`);
        }
        base.set(p.key, await adminPush(p.repo, 'v1', `matrix-base-${p.key}`));
        for (const kind of ['pull', 'push', 'delete'] as const) await createRobot(p, kind, ROBOT_ACCESS[kind]);
        // Disabled robots with every registry permission, one per place it tries to log in: each is
        // refused once only, so the failed-login slowdown (per user name) adds no waiting.
        for (const name of ['off-token', 'off-v2', 'off-api']) await createRobot(p, name, ACTIONS, true);
      }
    });

    after(async () => {
      await reg?.close();
    });

    for (const p of PROJECTS) {
      const where = `${p.name} (${p.key} project)`;
      describe(`${p.key} project`, () => {
        for (const principal of PRINCIPALS) {
          describe(principal.label, () => {
            const exp = expected(principal, p);
            const ctx = (what: string, mode?: Mode) => `[${database}] ${principal.label} × ${where} × ${what}${mode ? ` via ${mode === 'none' ? 'no credentials' : mode === 'basic' ? 'Basic on /v2/' : 'Bearer token'}` : ''}`;

            it(`gets a token granting exactly [${exp.registry.join(', ')}] of pull,push,delete`, async () => {
              const context = ctx(`GET /service/token scope=${scopeOf(p)}`);
              const t = await tokenFor(principal, p);
              await within(context, () => {
                assert.equal(t.status, 200, `expected 200, got ${t.status}: ${t.text.slice(0, 600)}`);
                const want = exp.registry.length > 0 ? [{ type: 'repository', name: p.repo, actions: [...exp.registry] }] : [];
                assert.deepEqual(t.access, want, `access claim: expected ${JSON.stringify(want)}, got ${JSON.stringify(t.access)}`);
              });
            });

            for (const mode of principal.modes) {
              const allowed = new Set(allowedIn(principal, p, mode));
              const verdict = (a: Action) => (allowed.has(a) ? 'allowed' : 'denied');

              it(`pull (GET manifest) via ${mode}: ${verdict('pull')}`, async () => {
                const context = ctx(`pull GET /v2/${p.repo}/manifests/v1`, mode);
                const res = await send('GET', `/v2/${p.repo}/manifests/v1`, { auth: await authFor(principal, p, mode, context), headers: { accept: OCI_MANIFEST } });
                expectRegistry(res, context, allowed.has('pull'), 200, mode, p.repo, 'pull');
                if (allowed.has('pull')) assert.equal(res.headers.get('docker-content-digest'), base.get(p.key)!.digest, context);
              });

              it(`push (POST blob upload) via ${mode}: ${verdict('push')}`, async () => {
                const context = ctx(`push POST /v2/${p.repo}/blobs/uploads/`, mode);
                const res = await send('POST', `/v2/${p.repo}/blobs/uploads/`, { auth: await authFor(principal, p, mode, context) });
                expectRegistry(res, context, allowed.has('push'), 202, mode, p.repo, 'push');
                if (allowed.has('push')) assert.ok(res.headers.get('location'), `${context}: 202 without Location`);
              });

              it(`push (PUT manifest) via ${mode}: ${verdict('push')}`, async () => {
                const tag = `put-${principal.id}-${mode}`;
                const context = ctx(`push PUT /v2/${p.repo}/manifests/${tag}`, mode);
                const res = await send('PUT', `/v2/${p.repo}/manifests/${tag}`, {
                  auth: await authFor(principal, p, mode, context),
                  body: base.get(p.key)!.body,
                  headers: { 'content-type': OCI_MANIFEST },
                });
                expectRegistry(res, context, allowed.has('push'), 201, mode, p.repo, 'push');
                if (allowed.has('push')) pushedTags.get(p.key)!.add(tag);
              });

              it(`delete (DELETE manifest by digest) via ${mode}: ${verdict('delete')}`, async () => {
                if (allowed.has('delete')) {
                  // A fresh image for each allowed delete, so the base image stays for the other rows.
                  const fresh = await adminPush(p.repo, `del-${principal.id}-${mode}`, `matrix-del-${p.key}-${principal.id}-${mode}`);
                  const context = ctx(`delete DELETE /v2/${p.repo}/manifests/${fresh.digest}`, mode);
                  const res = await send('DELETE', `/v2/${p.repo}/manifests/${fresh.digest}`, { auth: await authFor(principal, p, mode, context) });
                  expectRegistry(res, context, true, 202, mode, p.repo, 'delete');
                  const gone = await send('GET', `/v2/${p.repo}/manifests/${fresh.digest}`, { auth: ADMIN });
                  assert.equal(gone.status, 404, `${context}\n  the deleted manifest is still there: ${describeResponse(gone)}`);
                  return;
                }
                const digest = base.get(p.key)!.digest;
                const context = ctx(`delete DELETE /v2/${p.repo}/manifests/${digest}`, mode);
                const res = await send('DELETE', `/v2/${p.repo}/manifests/${digest}`, { auth: await authFor(principal, p, mode, context) });
                expectRegistry(res, context, false, 202, mode, p.repo, 'delete');
              });
            }

            const apiCase = (what: string, path: string, outcome: ApiOutcome, body: () => Record<string, unknown>, check: (res: ApiResponse, context: string) => void) => {
              it(`${what}: ${outcome === 'allow' ? 'allowed (201)' : outcome === 'forbidden' ? 'denied (403)' : 'denied (401)'}`, async () => {
                const context = ctx(`${what} POST ${path}`);
                const res = await send('POST', path, { auth: credentials(principal, p), body: body() });
                await within(`${context}\n  expected ${outcome}, ${describeResponse(res)}`, () => {
                  if (outcome === 'allow') {
                    assert.equal(res.status, 201);
                    check(res, context);
                  } else if (outcome === 'forbidden') assertEnvelope(res, 403, 'FORBIDDEN');
                  else assertEnvelope(res, 401, 'UNAUTHORIZED');
                });
              });
            };

            const memberName = `added-by-${principal.id}`;
            apiCase('add a member', `/api/v1/projects/${p.name}/members`, exp.addMember, () => ({ memberUser: { username: memberName }, roleId: HARBOR_ROLES.guest.id }), (res) => {
              assert.equal(res.body.name, memberName);
              assert.equal(res.body.roleId, HARBOR_ROLES.guest.id);
            });

            const robotName = `by-${principal.id}`;
            apiCase(
              'create a robot',
              `/api/v1/projects/${p.name}/robots`,
              exp.createRobot,
              () => ({ name: robotName, permissions: [{ kind: 'project', namespace: p.name, access: [{ resource: 'repository', action: 'pull' }] }] }),
              (res) => {
                assert.equal(res.body.robot.name, `robot$${p.name}+${robotName}`);
                assert.equal(typeof res.body.secret, 'string');
              },
            );
          });
        }

        describe('disabled robot [pull+push+delete]', () => {
          const ctx = (what: string) => `[${database}] disabled robot × ${where} × ${what}`;

          it('is refused at the token endpoint (401)', async () => {
            const context = ctx(`GET /service/token scope=${scopeOf(p)}`);
            const res = await send('GET', `/service/token?service=wharf&scope=${encodeURIComponent(scopeOf(p))}`, { auth: robotAuth(p, 'off-token') });
            await within(`${context}\n  expected 401 UNAUTHORIZED, ${describeResponse(res)}`, () => {
              assert.equal(res.status, 401);
              assert.equal(res.body?.errors?.[0]?.code, 'UNAUTHORIZED');
              assert.equal(res.body?.token, undefined);
            });
          });

          it('is refused with Basic on /v2/ (401 and a Bearer challenge)', async () => {
            const context = ctx(`pull GET /v2/${p.repo}/manifests/v1 via Basic`);
            const res = await send('GET', `/v2/${p.repo}/manifests/v1`, { auth: robotAuth(p, 'off-v2') });
            await within(`${context}\n  expected 401 UNAUTHORIZED, ${describeResponse(res)}`, () => {
              assert.equal(res.status, 401);
              assert.equal(res.body?.errors?.[0]?.code, 'UNAUTHORIZED');
              assert.equal(res.headers.get('www-authenticate'), challenge(p.repo, 'pull'));
            });
          });

          it('is refused on the management API (401)', async () => {
            const path = `/api/v1/projects/${p.name}/members`;
            const res = await send('POST', path, { auth: robotAuth(p, 'off-api'), body: { memberUser: { username: 'added-by-disabled' }, roleId: HARBOR_ROLES.guest.id } });
            await within(`${ctx(`add a member POST ${path}`)}\n  expected 401 UNAUTHORIZED, ${describeResponse(res)}`, () => assertEnvelope(res, 401, 'UNAUTHORIZED'));
          });
        });

        it('denied requests changed nothing: the base image is intact and only allowed pushes added tags', async () => {
          const context = `[${database}] ${where} after the matrix`;
          const pulled = await send('GET', `/v2/${p.repo}/manifests/v1`, { auth: ADMIN, headers: { accept: OCI_MANIFEST } });
          assert.equal(pulled.status, 200, `${context}: base image v1: ${describeResponse(pulled)}`);
          assert.equal(pulled.headers.get('docker-content-digest'), base.get(p.key)!.digest, context);
          const tags = await send('GET', `/v2/${p.repo}/tags/list`, { auth: ADMIN });
          assert.equal(tags.status, 200, `${context}: tags list: ${describeResponse(tags)}`);
          assert.deepEqual([...(tags.body.tags as string[])].sort(), [...pushedTags.get(p.key)!].sort(), `${context}: tags`);
          const members = await send('GET', `/api/v1/projects/${p.name}/members?page_size=100`, { auth: ADMIN });
          const added = (members.body as { name: string }[]).map((m) => m.name).filter((n) => n.startsWith('added-by-')).sort();
          const want = PRINCIPALS.filter((pr) => expected(pr, p).addMember === 'allow').map((pr) => `added-by-${pr.id}`).sort();
          assert.deepEqual(added, want, `${context}: members added through the API`);
          const list = await send('GET', `/api/v1/projects/${p.name}/robots?page_size=100`, { auth: ADMIN });
          const made = (list.body as { name: string }[]).map((r) => r.name).filter((n) => n.startsWith(`robot$${p.name}+by-`)).sort();
          const wantRobots = PRINCIPALS.filter((pr) => expected(pr, p).createRobot === 'allow').map((pr) => `robot$${p.name}+by-${pr.id}`).sort();
          assert.deepEqual(made, wantRobots, `${context}: robots created through the API`);
        });
      });
    }
  });
}
