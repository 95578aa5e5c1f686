import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PLUGIN_SECTIONS, type PluginSectionName } from '@wharf/core';
import type { WharfPlugin } from '@wharf/sdk';

/**
 * The config a test kernel or registry boots with: quiet, fs storage without fsync, SQLite in a
 * data dir of its own, and open (no tokens, no auth, no RBAC) and without the audit log unless
 * the test says otherwise.
 */

/**
 * Options of {@link createTestKernel} and {@link startTestRegistry}.
 * @since 0.1.0
 */
export interface TestKernelOptions {
  /**
   * Config over the test defaults, as in a `wharf.yaml`. A top-level key given here replaces the
   * default whole: `auth: [{ db: {} }]` turns auth on, `token: { enabled: true }` tokens,
   * `log: { level: 'debug' }` logging (default `silent`).
   */
  readonly config?: Record<string, unknown> | undefined;
  /**
   * Plugins given in code instead of packages. Each one the config does not name is added to its
   * section with an empty config (a storage plugin replaces the default fs storage).
   */
  readonly plugins?: readonly WharfPlugin[] | undefined;
  /** Use this data directory and keep it; by default a temp dir is made and removed at close. */
  readonly dataDir?: string | undefined;
  /** Where the kernel's log lines go (with `config.log.level` set), e.g. `captureLogs().stream`. */
  readonly logDestination?: NodeJS.WritableStream | undefined;
}

/**
 * The config sections a test kernel starts from: quiet logs, fs storage without fsync, and an
 * open registry (no tokens, no auth, no RBAC), without extensions. A top-level key of `config` replaces its default.
 * @since 0.1.0
 */
export const TEST_DEFAULTS = Object.freeze({
  log: { level: 'silent', format: 'json' },
  storage: { fs: { fsync: false } },
  token: { enabled: false },
  auth: [],
  rbac: {},
  // No audit log unless a test names it: it would add a consumer and tables to every kernel.
  logging: {},
  // No default extensions (the replication engine, repositories, webhooks, tag immutability): a test kernel holds what its test names.
  extensions: {},
});

type Json = Record<string, unknown>;

function sectionFor(plugin: WharfPlugin): PluginSectionName {
  const found = (Object.keys(PLUGIN_SECTIONS) as PluginSectionName[]).find((s) => PLUGIN_SECTIONS[s].kind === plugin.kind);
  if (!found) throw new TypeError(`plugin "${plugin.id}" has an unknown kind "${plugin.kind}"`);
  return found;
}

/** Adds `{ [id]: {} }` to the plugin's section unless the config already names it. */
function addPlugin(config: Json, given: Json, plugin: WharfPlugin): void {
  const section = sectionFor(plugin);
  if (PLUGIN_SECTIONS[section].shape === 'list') {
    const list = (config[section] as Json[] | undefined) ?? [];
    if (!list.some((entry) => plugin.id in entry)) config[section] = [...list, { [plugin.id]: {} }];
    return;
  }
  // The default storage gives way to a storage plugin the test hands over.
  const current = section === 'storage' && given.storage === undefined ? {} : ((config[section] as Json | undefined) ?? {});
  if (!(plugin.id in current)) config[section] = { ...current, [plugin.id]: {} };
}

/** The whole config object for `loadConfig`, with `dataDir` set. */
export function testConfig(options: TestKernelOptions, dataDir: string): Json {
  const given = structuredClone(options.config ?? {});
  const config: Json = { ...structuredClone(TEST_DEFAULTS), ...given, dataDir };
  for (const plugin of options.plugins ?? []) addPlugin(config, given, plugin);
  return config;
}

/** The data dir to use, and how to clean it up (only a temp dir made here is removed). */
export async function testDataDir(options: TestKernelOptions): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const chosen = options.dataDir ?? (options.config?.dataDir as string | undefined);
  if (chosen !== undefined) return { dir: path.resolve(chosen), cleanup: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
