import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, Type, apiStream, compareBySort, coreServices, definePlugin } from '@wharf/sdk';
import { ADMIN_PASSWORD, assertEnvelope, basic, bearer, call, fetchToken, startApiRegistry, type ApiRegistry } from './support/api-kit.js';
import { testDatabaseNames } from './support/server.js';

/**
 * The management API's kernel side over real HTTP: routing (404/405), authentication (Basic,
 * Bearer, anonymous), the error envelope for every refusal, request validation, pagination and
 * `q=`, the kernel's operations and the OpenAPI document. An in-code plugin adds operations
 * that exercise each part.
 */

const COLORS = ['red', 'green', 'blue', 'teal', 'cyan'];
const THINGS = Array.from({ length: 25 }, (_, i) => ({ name: `thing-${String(i + 1).padStart(2, '0')}`, color: COLORS[i % COLORS.length] as string }));
const SECRET = 'database password is hunter2';

const testOperations = definePlugin({
  id: 'api-test',
  kind: 'extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    const Thing = Type.Object({ name: Type.String(), color: Type.String() });
    ctx.api.operation({
      operationId: 'listThings',
      method: 'GET',
      path: '/test/things',
      tag: 'test',
      summary: 'Things, filtered and paged by the kernel',
      list: true,
      filters: ['name', 'color'],
      sorts: ['name', 'color'],
      anonymous: true,
      response: Thing,
      async handler(req) {
        const matches = (value: string, f: { op: 'eq' | 'fuzzy'; value: string } | undefined) =>
          f === undefined || (f.op === 'eq' ? value === f.value : value.includes(f.value));
        const all = THINGS.filter((t) => matches(t.name, req.page.filters.name) && matches(t.color, req.page.filters.color));
        if (req.page.sort.length > 0) all.sort(compareBySort(req.page.sort, { name: (t) => t.name, color: (t) => t.color }, { tieBreaker: (t) => t.name }));
        const start = (req.page.page - 1) * req.page.pageSize;
        return { items: all.slice(start, start + req.page.pageSize), total: all.length };
      },
    });
    ctx.api.operation({
      operationId: 'echoThing',
      method: 'POST',
      path: '/test/things/{thing_id}',
      tag: 'test',
      summary: 'Echoes what the kernel validated',
      params: Type.Object({ thing_id: Type.Integer({ minimum: 1 }) }),
      query: Type.Object({ verbose: Type.Optional(Type.Boolean()), tag: Type.Optional(Type.Array(Type.String())) }),
      body: Type.Object({ name: Type.String({ minLength: 1 }), size: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }),
      response: Type.Object({ id: Type.Integer(), verbose: Type.Optional(Type.Boolean()), tag: Type.Optional(Type.Array(Type.String())), body: Type.Unknown(), caller: Type.String() }),
      status: 201,
      async handler(req) {
        req.setHeader('Location', `/api/v1/test/things/${req.params.thing_id}`);
        return { id: req.params.thing_id, ...req.query, body: req.body, caller: req.principal.subject };
      },
    });
    ctx.api.operation({
      operationId: 'readConfiguration',
      method: 'GET',
      path: '/test/configuration',
      tag: 'test',
      summary: 'Needs system configuration read',
      response: Type.Object({ may: Type.Boolean() }),
      async handler(req) {
        await req.authorize({ resource: { type: 'system', name: 'configuration' }, action: 'read' });
        return { may: await req.may({ resource: { type: 'repository', name: 'library/app' }, action: 'push' }) };
      },
    });
    ctx.api.operation({
      operationId: 'failBadly',
      method: 'GET',
      path: '/test/boom',
      tag: 'test',
      summary: 'Throws a plain error',
      anonymous: true,
      async handler() {
        throw new Error(SECRET);
      },
    });
    ctx.api.operation({
      operationId: 'exportThings',
      method: 'GET',
      path: '/test/things/export',
      tag: 'test',
      summary: 'Streams the things as CSV; fails before or after the first chunk on request',
      anonymous: true,
      query: Type.Object({ fail: Type.Optional(Type.Union([Type.Literal('early'), Type.Literal('late')])) }),
      produces: ['text/csv'],
      async handler(req) {
        const fail = req.query.fail;
        async function* chunks() {
          if (fail === 'early') throw new Error(SECRET);
          yield 'name,color\n';
          for (const t of THINGS) {
            if (fail === 'late' && t.name === 'thing-10') throw new Error(SECRET);
            yield `${t.name},${t.color}\n`;
          }
        }
        return apiStream({ contentType: 'text/csv; charset=utf-8', filename: 'things.csv', chunks: chunks() });
      },
    });
    ctx.api.operation({
      operationId: 'conflictAlways',
      method: 'DELETE',
      path: '/test/things/{thing_id}',
      tag: 'test',
      summary: 'Refuses with an ApiError',
      async handler() {
        throw new ApiError('CONFLICT', 'that thing is in use');
      },
    });
  },
});

const KERNEL_AND_DB_OPERATIONS = ['createUser', 'deleteUser', 'getCurrentUser', 'getSystemInfo', 'getUser', 'listUsers', 'setUserPassword', 'updateUser'];

for (const database of testDatabaseNames()) {
  describe(`management API: kernel side (${database})`, () => {
    let reg: ApiRegistry;
    let url: string;
    const logs: string[] = [];
    const admin = basic('admin', ADMIN_PASSWORD);
    const pat = basic('pat', 'Pat-Pass-123');

    before(async () => {
      reg = await startApiRegistry(database, {
        plugins: [testOperations],
        logs,
        // The audit log's operations (keyset pages, streamed exports) are checked by the OpenAPI test too.
        overrides: { extensions: { 'api-test': {} }, token: { enabled: true }, logging: { audit: {} } },
      });
      url = reg.url;
      const created = await call(url, 'POST', '/api/v1/users', { auth: admin, body: { username: 'pat', password: 'Pat-Pass-123' } });
      assert.equal(created.status, 201, created.text);
    });
    after(() => reg.close());

    it('answers an unknown path with 404 and a known path with a wrong method with 405 and Allow', async () => {
      assertEnvelope(await call(url, 'GET', '/api/v1/no/such/thing', { auth: admin }), 404, 'NOT_FOUND');
      assertEnvelope(await call(url, 'GET', '/api/v1'), 404, 'NOT_FOUND');
      const wrong = await call(url, 'PUT', '/api/v1/users/current', { auth: admin });
      assertEnvelope(wrong, 405, 'METHOD_NOT_ALLOWED');
      // /users/{username} answers the other methods of this path.
      assert.deepEqual(wrong.headers.get('allow')?.split(', ').sort(), ['DELETE', 'GET', 'HEAD', 'PATCH']);
      const openapi = await call(url, 'DELETE', '/api/v1/openapi.json');
      assertEnvelope(openapi, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(openapi.headers.get('allow'), 'GET, HEAD');
      // Every answer carries the request id, and none is cached.
      assert.ok(wrong.headers.get('x-request-id'));
      assert.equal(wrong.headers.get('cache-control'), 'no-store');
    });

    it('refuses callers without credentials with 401 and a Basic challenge, bad credentials always', async () => {
      const anonymous = await call(url, 'GET', '/api/v1/users/current');
      assertEnvelope(anonymous, 401, 'UNAUTHORIZED');
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="[^"]+"$/);
      // A web page's script (X-Requested-With) gets no Basic challenge: the browser would hold
      // the request and pop up its own login box instead of letting the page handle the 401.
      const fromPage = await call(url, 'GET', '/api/v1/users/current', { headers: { 'x-requested-with': 'fetch' } });
      assertEnvelope(fromPage, 401, 'UNAUTHORIZED');
      assert.equal(fromPage.headers.get('www-authenticate'), null);
      // An anonymous operation still refuses wrong credentials instead of serving anonymously.
      const wrong = await call(url, 'GET', '/api/v1/systeminfo', { auth: basic('admin', 'Wrong-Pass-1'), headers: { 'x-forwarded-for': '198.51.100.7' } });
      assertEnvelope(wrong, 401, 'UNAUTHORIZED');
      // Failures are logged through the shared authenticator: user and address, never the password.
      const failed = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'login failed' && l.ip === '198.51.100.7');
      assert.equal(failed?.user, 'admin');
      assert.ok(!logs.some((l) => l.includes('Wrong-Pass-1')));
      assertEnvelope(await call(url, 'GET', '/api/v1/systeminfo', { auth: 'Digest abc' }), 401, 'UNAUTHORIZED');
      assertEnvelope(await call(url, 'GET', '/api/v1/systeminfo', { auth: 'Basic !!!' }), 401, 'UNAUTHORIZED');
      assertEnvelope(await call(url, 'GET', '/api/v1/users/current', { auth: bearer('not.a.jwt') }), 401, 'UNAUTHORIZED');
      assert.equal((await call(url, 'GET', '/api/v1/systeminfo')).status, 200);
    });

    it('answers 403 FORBIDDEN for a signed-in caller RBAC does not allow, and lets an administrator through', async () => {
      // No RBAC plugin: system resources are refused to everyone but administrators.
      assertEnvelope(await call(url, 'GET', '/api/v1/test/configuration', { auth: pat }), 403, 'FORBIDDEN', /configuration/);
      assertEnvelope(await call(url, 'GET', '/api/v1/test/configuration'), 401, 'UNAUTHORIZED');
      const ok = await call(url, 'GET', '/api/v1/test/configuration', { auth: admin });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body, { may: true });
    });

    it('sends ApiErrors a handler throws in the envelope with their status', async () => {
      assertEnvelope(await call(url, 'DELETE', '/api/v1/test/things/3', { auth: admin }), 409, 'CONFLICT', /in use/);
    });

    it('turns a plain error into a 500 that names the request id and leaks nothing', async () => {
      const res = await call(url, 'GET', '/api/v1/test/boom', { headers: { 'x-request-id': 'req-boom-1' } });
      assertEnvelope(res, 500, 'INTERNAL_SERVER_ERROR', /req-boom-1/);
      assert.equal(res.headers.get('x-request-id'), 'req-boom-1');
      assert.ok(!res.text.includes('hunter2') && !res.text.includes('Error:'), res.text);
      assert.deepEqual(Object.keys(res.body.errors[0]).sort(), ['code', 'message']);
      // The operator gets the whole story: stack, plugin, request id.
      const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'api request failed' && l.reqId === 'req-boom-1');
      assert.ok(line, 'the failure is logged');
      assert.equal(line.level, 50);
      assert.equal(line.plugin, 'api-test');
      assert.match(line.err.stack, /hunter2[\s\S]*at /);
    });

    it('validates path, query and body, coercing parameters and naming each bad field', async () => {
      const ok = await call(url, 'POST', '/api/v1/test/things/42?verbose=true&tag=a&tag=b', { auth: admin, body: { name: 'x', size: 3 } });
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual(ok.body, { id: 42, verbose: true, tag: ['a', 'b'], body: { name: 'x', size: 3 }, caller: 'admin' });
      assert.equal(ok.headers.get('location'), '/api/v1/test/things/42');
      const single = await call(url, 'POST', '/api/v1/test/things/1?tag=only', { auth: admin, body: { name: 'x' } });
      assert.deepEqual(single.body.tag, ['only']);

      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/abc', { auth: admin, body: { name: 'x' } }), 400, 'BAD_REQUEST', /path parameter: \/thing_id: must be integer/);
      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/0', { auth: admin, body: { name: 'x' } }), 400, 'BAD_REQUEST', /\/thing_id: must be >= 1/);
      // Only plain decimal digits: what Number() would also read as 1 (or Infinity) is refused.
      for (const id of ['0x1', '1e0', '%201', '1.0', '1e400', '+1', '99999999999999999999']) {
        assertEnvelope(await call(url, 'POST', `/api/v1/test/things/${id}`, { auth: admin, body: { name: 'x' } }), 400, 'BAD_REQUEST', /\/thing_id: must be integer \(plain decimal digits\)/);
      }
      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/1?verbose=perhaps', { auth: admin, body: { name: 'x' } }), 400, 'BAD_REQUEST', /query parameter: \/verbose: must be boolean/);
      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/1', { auth: admin, body: {} }), 400, 'BAD_REQUEST', /body: \/name: is required/);
      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/1', { auth: admin, body: { name: 'x', extra: 1 } }), 400, 'BAD_REQUEST', /\/extra: is not allowed/);
      const two = await call(url, 'POST', '/api/v1/test/things/1', { auth: admin, body: { name: '', size: 'big' } });
      assertEnvelope(two, 400, 'BAD_REQUEST', /\/name: must NOT have fewer than 1 characters/);
      assert.match(two.body.errors[0].message, /\/size: must be integer/);
      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/1', { auth: admin, body: [1] }), 400, 'BAD_REQUEST', /body: \/: must be object/);
      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/1', { auth: admin }), 400, 'BAD_REQUEST', /JSON body is required/);
      assertEnvelope(await call(url, 'POST', '/api/v1/test/things/%E0%A4%A', { auth: admin, body: { name: 'x' } }), 400, 'BAD_REQUEST', /percent-encoding/);
    });

    it('takes JSON bodies only: 415 for other types, 400 for malformed JSON, 413 past 1 MiB', async () => {
      const path = '/api/v1/test/things/1';
      assertEnvelope(await call(url, 'POST', path, { auth: admin, body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertEnvelope(await call(url, 'POST', path, { auth: admin, body: '{"name":"x"}', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertEnvelope(await call(url, 'POST', path, { auth: admin, body: '{"name":"x"}', headers: { 'content-type': 'application/json; charset=latin1' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      const vendor = await call(url, 'POST', path, { auth: admin, body: '{"name":"x"}', headers: { 'content-type': 'application/vnd.wharf+json; charset=utf-8' } });
      assert.equal(vendor.status, 201, vendor.text);
      const malformed = await call(url, 'POST', path, { auth: admin, body: '{"name":"Secret-Pass-1"', headers: { 'content-type': 'application/json' } });
      assertEnvelope(malformed, 400, 'BAD_REQUEST', /not valid JSON/);
      assert.ok(!malformed.text.includes('Secret-Pass-1'));
      assert.ok(!logs.some((l) => l.includes('Secret-Pass-1')), 'bodies are never logged');
      const huge = { name: 'x'.repeat(1024 * 1024) };
      assertEnvelope(await call(url, 'POST', path, { auth: admin, body: huge }), 413, 'PAYLOAD_TOO_LARGE');
      // Refused before the body is read: an anonymous caller gets 401, not 413.
      assertEnvelope(await call(url, 'POST', path, { body: huge }), 401, 'UNAUTHORIZED');
    });

    it('pages lists with X-Total-Count and Link (first, middle, last, beyond)', async () => {
      const first = await call(url, 'GET', '/api/v1/test/things');
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers.get('x-total-count'), '25');
      assert.deepEqual(first.body.map((t: { name: string }) => t.name), THINGS.slice(0, 10).map((t) => t.name));
      assert.equal(first.headers.get('link'), '</api/v1/test/things?page=2&page_size=10>; rel="next"');

      const middle = await call(url, 'GET', '/api/v1/test/things?page_size=10&page=2&q=name%3D~thing');
      assert.deepEqual(middle.body.map((t: { name: string }) => t.name), THINGS.slice(10, 20).map((t) => t.name));
      assert.equal(
        middle.headers.get('link'),
        '</api/v1/test/things?page_size=10&page=1&q=name%3D%7Ething>; rel="prev", </api/v1/test/things?page_size=10&page=3&q=name%3D%7Ething>; rel="next"',
      );

      const last = await call(url, 'GET', '/api/v1/test/things?page=3&page_size=10');
      assert.equal(last.body.length, 5);
      assert.equal(last.headers.get('link'), '</api/v1/test/things?page=2&page_size=10>; rel="prev"');

      const beyond = await call(url, 'GET', '/api/v1/test/things?page=9&page_size=10');
      assert.deepEqual(beyond.body, []);
      assert.equal(beyond.headers.get('x-total-count'), '25');

      const all = await call(url, 'GET', '/api/v1/test/things?page_size=100');
      assert.equal(all.body.length, 25);
      assert.equal(all.headers.get('link'), null);

      assertEnvelope(await call(url, 'GET', '/api/v1/test/things?page_size=101'), 400, 'BAD_REQUEST', /\/page_size: must be an integer from 1 to 100/);
      assertEnvelope(await call(url, 'GET', '/api/v1/test/things?page_size=0'), 400, 'BAD_REQUEST', /page_size/);
      assertEnvelope(await call(url, 'GET', '/api/v1/test/things?page=0'), 400, 'BAD_REQUEST', /\/page: must be an integer from 1/);
      assertEnvelope(await call(url, 'GET', '/api/v1/test/things?page=1.5'), 400, 'BAD_REQUEST', /\/page/);
      assertEnvelope(await call(url, 'GET', '/api/v1/test/things?page=1&page=2'), 400, 'BAD_REQUEST', /appear once/);
    });

    it('sorts with sort= across pages: descending, several keys, refuses unknown, repeated and malformed fields', async () => {
      const names = async (query: string) => {
        const res = await call(url, 'GET', `/api/v1/test/things?${query}`);
        assert.equal(res.status, 200, res.text);
        return res.body.map((t: { name: string }) => t.name) as string[];
      };
      const descending = THINGS.map((t) => t.name).reverse();
      assert.deepEqual(await names('sort=-name&page_size=20'), descending.slice(0, 20));
      assert.deepEqual(await names('sort=-name&page_size=20&page=2'), descending.slice(20));
      assert.deepEqual(await names('sort=name&page_size=3'), ['thing-01', 'thing-02', 'thing-03']);
      // color ascending (blue first), then name descending within a color.
      assert.deepEqual(await names('sort=color,-name&page_size=5'), ['thing-23', 'thing-18', 'thing-13', 'thing-08', 'thing-03']);
      assert.deepEqual(await names('sort=&page_size=2'), ['thing-01', 'thing-02']);
      const paged = await call(url, 'GET', '/api/v1/test/things?sort=-name&page_size=10');
      assert.match(paged.headers.get('link') ?? '', /sort=-name/, 'Link keeps the order');
      const refused = async (sort: string, message: RegExp) =>
        assertEnvelope(await call(url, 'GET', `/api/v1/test/things?sort=${encodeURIComponent(sort)}`), 400, 'BAD_REQUEST', message);
      await refused('size', /\/sort: unknown field "size" \(this operation sorts by name, color/);
      await refused('name,-name', /"name" appears twice/);
      await refused('name,', /not a field/);
      await refused('+name', /not a field/);
      assertEnvelope(await call(url, 'GET', '/api/v1/test/things?sort=name&sort=color'), 400, 'BAD_REQUEST', /appear once/);
    });

    it('filters with q: exact, fuzzy, URL-decoded values; refuses unknown keys and range or list forms', async () => {
      const names = async (q: string) => {
        const res = await call(url, 'GET', `/api/v1/test/things?page_size=100&q=${q}`);
        assert.equal(res.status, 200, res.text);
        return res.body.map((t: { name: string }) => t.name) as string[];
      };
      assert.deepEqual(await names(encodeURIComponent('name=thing-07')), ['thing-07']);
      assert.deepEqual(await names(encodeURIComponent('name=thing-0')), []);
      assert.deepEqual(await names(encodeURIComponent('name=~thing-0')), THINGS.slice(0, 9).map((t) => t.name));
      assert.deepEqual(await names(encodeURIComponent('color=teal,name=~-1')), ['thing-14', 'thing-19']);
      const teal = await call(url, 'GET', `/api/v1/test/things?page_size=2&q=${encodeURIComponent('color=~ea')}`);
      assert.equal(teal.headers.get('x-total-count'), '5');
      // A value holding a comma is encoded once more inside q.
      assert.deepEqual(await names(encodeURIComponent(`name=${encodeURIComponent('a,b')}`)), []);

      const refused = async (q: string, message: RegExp) =>
        assertEnvelope(await call(url, 'GET', `/api/v1/test/things?q=${encodeURIComponent(q)}`), 400, 'BAD_REQUEST', message);
      await refused('size=3', /unknown key "size".*name, color/);
      await refused('name', /not key=value/);
      await refused('=x', /not key=value/);
      await refused('name=[a~b]', /not supported/);
      await refused('name={a b}', /not supported/);
      await refused('name=(a b)', /not supported/);
      await refused('name=a,name=b', /appears twice/);
      await refused('name=', /needs a value/);
      await refused('name=%E0%A4%A', /percent-encoding/);
    });

    it('GET /users/current: the caller by Basic or by a token of the token service; 401 for anonymous', async () => {
      const me = await call(url, 'GET', '/api/v1/users/current', { auth: pat });
      assert.equal(me.status, 200, me.text);
      assert.deepEqual(me.body, { subject: 'pat', kind: 'user', provider: 'db', admin: false, groups: [] });
      const root = await call(url, 'GET', '/api/v1/users/current', { auth: admin });
      assert.equal(root.body.admin, true);
      const { token } = await fetchToken(url, 'pat', 'Pat-Pass-123');
      const byToken = await call(url, 'GET', '/api/v1/users/current', { auth: bearer(token) });
      assert.equal(byToken.status, 200, byToken.text);
      assert.deepEqual(byToken.body, me.body);
      assertEnvelope(await call(url, 'GET', '/api/v1/users/current'), 401, 'UNAUTHORIZED');
      // An anonymous token is anonymous here too.
      const anon = await fetch(`${url}/service/token?service=wharf`).then((r) => r.json() as Promise<{ token: string }>);
      assertEnvelope(await call(url, 'GET', '/api/v1/users/current', { auth: bearer(anon.token) }), 401, 'UNAUTHORIZED');
    });

    it('GET /systeminfo: version and token settings, for anyone', async () => {
      const res = await call(url, 'GET', '/api/v1/systeminfo');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.version, reg.server.kernel.version);
      assert.equal(res.body.registryUrl, url);
      assert.deepEqual(res.body.tokenAuth, { enabled: true, realm: `${url}/service/token`, service: 'wharf' });
    });

    it('provides coreServices.repositories: a namespace\'s repositories from the metadata database', async () => {
      const { kernel } = reg.server;
      for (const name of ['lib/one', 'lib/two/deep', 'libs/other', 'lib_x/no']) {
        await kernel.metadata().linkBlob(name, `sha256:${'a'.repeat(63)}${name.length % 10}`, 1);
      }
      const repositories = kernel.resolve(coreServices.repositories);
      assert.deepEqual(await repositories.list('lib', { page: 1, pageSize: 10 }), { items: ['lib/one', 'lib/two/deep'], total: 2 });
      assert.deepEqual(await repositories.list('lib', { page: 2, pageSize: 1 }), { items: ['lib/two/deep'], total: 2 });
    });

    it('streams an operation\'s answer; a failure before the first chunk is an envelope, a later one cuts the connection', async () => {
      const res = await fetch(`${url}/api/v1/test/things/export`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="things.csv"');
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const lines = (await res.text()).trimEnd().split('\n');
      assert.deepEqual([lines.length, lines[0], lines[25]], [26, 'name,color', 'thing-25,cyan']);
      const early = await call(url, 'GET', '/api/v1/test/things/export?fail=early');
      assertEnvelope(early, 500, 'INTERNAL_SERVER_ERROR');
      assert.ok(!early.text.includes('hunter2'));
      const late = await fetch(`${url}/api/v1/test/things/export?fail=late`);
      assert.equal(late.status, 200, 'the status went out with the first chunk');
      await assert.rejects(late.text(), 'a body cut short is an error for the client, never a short file');
      assertEnvelope(await call(url, 'GET', '/api/v1/test/things/export?fail=never'), 400, 'BAD_REQUEST');
    });

    it('serves an OpenAPI 3.1 document of every registered operation', async () => {
      const res = await call(url, 'GET', '/api/v1/openapi.json');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const doc = res.body;
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(doc.info.version, reg.server.kernel.version);
      assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['basic', 'bearer']);
      assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc, 'JSON round trip');

      const seen: string[] = [];
      const resolve = (node: { $ref?: string }) => {
        if (!node.$ref) return node;
        const target = node.$ref.replace(/^#\//, '').split('/').reduce((o: any, k) => o?.[k], doc); // eslint-disable-line @typescript-eslint/no-explicit-any
        assert.ok(target, `dangling ${node.$ref}`);
        return target;
      };
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) { // eslint-disable-line @typescript-eslint/no-explicit-any
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const [method, op] of Object.entries(methods)) {
          assert.ok(['get', 'post', 'put', 'patch', 'delete'].includes(method));
          seen.push(op.operationId);
          assert.ok(op.summary && op.tags.length === 1 && doc.tags.some((t: { name: string }) => t.name === op.tags[0]), op.operationId);
          const params = op.parameters.map(resolve);
          assert.deepEqual(params.filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name), templated, `${op.operationId} path parameters`);
          for (const p of params) assert.ok(p.schema, `${op.operationId} ${p.name} has a schema`);
          const statuses = Object.keys(op.responses);
          assert.ok(statuses.some((s) => s.startsWith('2')), op.operationId);
          for (const status of statuses.filter((s) => /^[45]/.test(s))) {
            assert.equal(resolve(op.responses[status]).content['application/json'].schema.$ref, '#/components/schemas/ErrorEnvelope', `${op.operationId} ${status}`);
          }
          for (const status of ['400', '401', '403', '404', '500']) assert.ok(statuses.includes(status), `${op.operationId} documents ${status}`);
          if (op.requestBody) assert.ok(op.requestBody.content['application/json'].schema);
          const names = params.map((p: { name: string }) => p.name);
          if (op.operationId.startsWith('list')) {
            for (const name of ['page', 'page_size', 'q']) assert.ok(names.includes(name), `${op.operationId} has ${name}`);
            const sort = params.find((p: { name: string }) => p.name === 'sort');
            if (sort?.schema['x-wharf-sort-fields']) {
              for (const field of sort.schema['x-wharf-sort-fields']) assert.match(`-${field}`, new RegExp(sort.schema.pattern), `${op.operationId} sort pattern takes -${field}`);
              assert.doesNotMatch('unknown', new RegExp(sort.schema.pattern));
            }
            assert.equal(resolve(op.responses['200'].content['application/json'].schema).type, 'array');
            assert.ok(op.responses['200'].headers['X-Total-Count'] && op.responses['200'].headers.Link);
          } else {
            assert.ok(!names.includes('page_size'), `${op.operationId} is not a list`);
          }
          assert.ok(!JSON.stringify(op).includes('"[object'));
        }
      }
      assert.equal(new Set(seen).size, seen.length, 'operationIds are unique');
      const registered = reg.server.kernel.api.list().map((r) => r.operation.operationId);
      assert.deepEqual([...seen].sort(), [...registered].sort());
      for (const id of KERNEL_AND_DB_OPERATIONS) assert.ok(seen.includes(id), `${id} is documented`);
      // Named schemas are components; anonymous callers are marked on their operations.
      assert.ok(doc.components.schemas.User && doc.components.schemas.CurrentUser && doc.components.schemas.ErrorEnvelope);
      assert.deepEqual(doc.paths['/systeminfo'].get.security[0], {});
      assert.equal(doc.paths['/users'].get.security, undefined);
      assert.equal(doc.paths['/users/{username}'].get['x-wharf-owner'], 'db');
      assert.equal(doc.paths['/users/current'].get['x-wharf-owner'], 'kernel');
    });
  });
}
