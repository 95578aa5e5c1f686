import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/**
 * Helpers for the kernel's own tests: temp dirs, throwaway plugin packages installed into a temp
 * `node_modules` (with the real `@wharf/sdk` linked in, as npm would), captured log lines.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from core/dist/kernel). */
export const REPO_ROOT = path.resolve(here, '../../..');
export const SDK_DIR = path.join(REPO_ROOT, 'sdk/api');

export async function tempDir(prefix = 'wharf-kernel-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface FakePluginSpec {
  /** Package name, e.g. `wharf-plugin-extension-hello` or `@acme/x`. */
  readonly name: string;
  readonly id: string;
  readonly kind: string;
  readonly kernel?: string;
  readonly version?: string;
  readonly dependsOn?: readonly string[];
  /** JavaScript source of the config schema expression (`Type` is in scope). */
  readonly schema?: string;
  /** JavaScript body of `register(ctx)`. */
  readonly register?: string;
  /** Replaces the whole module source. */
  readonly source?: string;
}

/** Installs a plugin package into `<dir>/node_modules`, linking the real SDK next to it. */
export async function writePluginPackage(dir: string, spec: FakePluginSpec): Promise<string> {
  const pkgDir = path.join(dir, 'node_modules', ...spec.name.split('/'));
  await mkdir(pkgDir, { recursive: true });
  const sdkLink = path.join(dir, 'node_modules', '@wharf', 'sdk');
  await mkdir(path.dirname(sdkLink), { recursive: true });
  await symlink(SDK_DIR, sdkLink, 'dir').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await writeFile(
    path.join(pkgDir, 'package.json'),
    JSON.stringify({ name: spec.name, version: spec.version ?? '1.0.0', type: 'module', main: './index.js', exports: { '.': './index.js' } }),
  );
  const source =
    spec.source ??
    `import { definePlugin, Type } from '@wharf/sdk';
export default definePlugin({
  id: ${JSON.stringify(spec.id)},
  kind: ${JSON.stringify(spec.kind)},
  version: ${JSON.stringify(spec.version ?? '1.0.0')},
  kernel: ${JSON.stringify(spec.kernel ?? '^0.1.0')},
  ${spec.dependsOn ? `dependsOn: ${JSON.stringify(spec.dependsOn)},` : ''}
  configSchema: ${spec.schema ?? 'Type.Object({})'},
  register(ctx) { ${spec.register ?? ''} },
});
`;
  await writeFile(path.join(pkgDir, 'index.js'), source);
  return pkgDir;
}

export interface CapturedLogs {
  readonly stream: Writable;
  readonly lines: () => Record<string, unknown>[];
  readonly text: () => string;
}

/** A pino destination that keeps every line. */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines, text };
}

/**
 * The sections that make an open registry: no auth, no RBAC, no tokens. Kernel tests that are
 * not about access use it; secure defaults are tested on their own.
 */
export const OPEN_REGISTRY = Object.freeze({ auth: [], rbac: {}, token: { enabled: false } });

/** A minimal valid config for a kernel in `dir`: fs storage, SQLite, JSON logs at debug, open. */
export function baseConfig(dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dataDir: dir,
    log: { level: 'debug', format: 'json' },
    storage: { fs: { fsync: false } },
    ...OPEN_REGISTRY,
    logging: {},
    // No default extensions (the replication engine plugin): kernel tests stay minimal.
    extensions: {},
    ...extra,
  };
}
