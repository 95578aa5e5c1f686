import { configProblems, loadConfig, type LoadedConfig } from '@wharf/core';
import type { WharfPlugin } from '@wharf/sdk';

/**
 * The kernel's config loader for a plugin's config tests: defaults applied, schema checked,
 * secrets marked, exactly as `wharf serve` does it, without booting anything.
 */

/**
 * Options of {@link loadTestConfig}.
 * @since 0.1.0
 */
export interface LoadTestConfigOptions {
  /** The whole config, as in a `wharf.yaml` (no test defaults are added). */
  readonly config: Record<string, unknown>;
  /** `WHARF_*` variables to apply over it; the process environment is never read. */
  readonly env?: Record<string, string> | undefined;
  /** Plugins given in code instead of packages. */
  readonly plugins?: readonly WharfPlugin[] | undefined;
}

/**
 * Loads and checks a config as the kernel does. Throws the kernel's `REG_ERR_CONFIG_INVALID`
 * error (read its problems with {@link configProblems}) for a config it refuses.
 * @since 0.1.0
 */
export function loadTestConfig(options: LoadTestConfigOptions): Promise<LoadedConfig> {
  return loadConfig({ config: options.config, env: options.env ?? {}, plugins: options.plugins });
}

export { configProblems };
export type { LoadedConfig };
