#!/usr/bin/env node
// Refreshes the UI's copy of the management API's OpenAPI document (web/openapi.json) from a real
// `wharf serve` with the binary's default plugins, then regenerates the typed client's schema
// (web/src/api/schema.d.ts) with openapi-typescript. Run after an API change: `npm run ui:openapi`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ui = fileURLToPath(new URL('..', import.meta.url));
const root = join(ui, '../..');
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), 'wharf-ui-openapi-'));
const child = spawn(process.execPath, [join(root, 'server/bin/wharf.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
  env: { ...process.env, WHARF_ADMIN_PASSWORD: 'Openapi-Refresh-1' },
  stdio: 'ignore',
});
try {
  let doc;
  for (let i = 0; i < 300 && !doc; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`).catch(() => undefined);
    if (res?.ok) doc = await res.json();
  }
  if (!doc) throw new Error('wharf serve did not answer /api/v1/openapi.json');
  writeFileSync(join(ui, 'web/openapi.json'), JSON.stringify(doc, null, 2) + '\n');
  execFileSync(process.execPath, [join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'web/openapi.json', '-o', 'web/src/api/schema.d.ts'], { cwd: ui, stdio: 'inherit' });
} finally {
  child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
