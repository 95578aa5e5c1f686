import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KernelError, type PluginKind } from '@wharf/sdk';
import { verifyPlugin, type PluginVerification } from '../kernel/verify-plugin.js';
import { KERNEL_VERSION } from '../version.js';

/** `wharf plugin verify`: the production loader's checks on one plugin, for plugin authors' CI. */

export interface PluginVerifyOptions {
  readonly kind: PluginKind;
  /** A YAML file holding the plugin's own section (what goes under `storage: { fs: ... }`). */
  readonly config?: string | undefined;
  readonly json?: boolean | undefined;
}

async function readSection(file: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new KernelError('REG_ERR_CONFIG_READ', `cannot read plugin config ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new KernelError('REG_ERR_CONFIG_READ', `plugin config ${file} must hold a mapping (the plugin's section) at the top level`);
  }
  return doc as Record<string, unknown>;
}

export function formatVerification(v: PluginVerification): string {
  const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : '(none)');
  return [
    `ok: ${v.kind} plugin "${v.id}" ${v.version}${v.packageName ? ` from ${v.packageName}` : ''}`,
    `  kernel    ${v.kernel} (this kernel: ${KERNEL_VERSION})`,
    `  taps      ${list(v.taps)}`,
    `  services  ${list(v.services)}`,
    ...(v.initDeps.length > 0 ? [`  init      needs ${v.initDeps.join(', ')}`] : []),
    ...(v.migrations ? ['  migrations declared'] : []),
    ...(v.routes ? [`  routes    /_ext/${v.id}`] : []),
    ...(v.ui ? [`  ui        ${v.ui.map((u) => `${u.slot} ${u.id} (${u.module})`).join(', ')}`] : []),
  ].join('\n');
}

export async function pluginVerifyCommand(name: string, opts: PluginVerifyOptions, out: (text: string) => void): Promise<number> {
  const cwd = process.cwd();
  const config = opts.config ? await readSection(path.resolve(cwd, opts.config)) : {};
  const verification = await verifyPlugin(name, { kind: opts.kind, config, cwd });
  // The config section stays out of the output: it may hold secrets (passwords, keys).
  const { config: _section, ...summary } = verification;
  out(opts.json ? JSON.stringify(summary, null, 2) : formatVerification(verification));
  return 0;
}
