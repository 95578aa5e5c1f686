import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { basicAuth, repoRoot, startWharf, type RegistryHandle } from '../helpers/server.js';

/**
 * The web UI in the `wharf` binary: on by default, off when a config file's `extensions` leaves
 * it out (the registry and the API unchanged). And the UI's API client is generated from the management API's OpenAPI document. Its copy
 * (plugins/ui/web/openapi.json) must be the document a real `wharf serve` with the default
 * plugins publishes, and the generated schema must be what openapi-typescript makes of it;
 * otherwise the UI may call operations that changed or went away. Fix: `npm run ui:openapi`.
 */

const ui = join(repoRoot, 'plugins/ui');
let wharf: RegistryHandle;
before(async () => {
  wharf = await startWharf();
});
after(() => wharf?.stop());

it('the UI\'s copy of the OpenAPI document is the server\'s (npm run ui:openapi refreshes it)', async () => {
  const served = await (await fetch(`${wharf.url}/api/v1/openapi.json`)).json();
  const committed = JSON.parse(readFileSync(join(ui, 'web/openapi.json'), 'utf8'));
  assert.deepEqual(committed, served, 'plugins/ui/web/openapi.json is stale: run npm run ui:openapi');
});

it('the generated schema is openapi-typescript\'s output for that document', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ui-schema-'));
  try {
    const out = join(dir, 'schema.d.ts');
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/openapi-typescript/bin/cli.js'), 'web/openapi.json', '-o', out], { cwd: ui, stdio: 'ignore' });
    assert.equal(readFileSync(join(ui, 'web/src/api/schema.d.ts'), 'utf8'), readFileSync(out, 'utf8'), 'web/src/api/schema.d.ts is stale: run npm run ui:openapi');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('serves the UI at / by default', async () => {
  const res = await fetch(`${wharf.url}/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<div id="app">/);
});

it('without extensions.ui, / is a 404 and the registry and the API work as before', async () => {
  const off = await startWharf({ config: { extensions: { metrics: {} } } });
  try {
    assert.equal((await fetch(`${off.url}/`)).status, 404);
    assert.equal((await fetch(`${off.url}/projects`)).status, 404);
    const info = await fetch(`${off.url}/api/v1/systeminfo`);
    assert.equal(info.status, 200);
    const v2 = await fetch(`${off.url}/v2/`);
    assert.equal(v2.status, 401, 'the registry still asks for a token');
    const me = await fetch(`${off.url}/api/v1/users/current`, { headers: { authorization: basicAuth(off.admin!) } });
    assert.equal(me.status, 200);
  } finally {
    await off.stop();
  }
});
