import { authDbPlugin } from '@wharf/plugin-auth-db';
import { repositoriesPlugin } from '@wharf/plugin-extension-repositories';
import { authLdapPlugin } from '@wharf/plugin-auth-ldap';
import { metricsPlugin } from '@wharf/plugin-metrics';
import { auditPlugin } from '@wharf/plugin-logging-audit';
import { loggingSyslogPlugin } from '@wharf/plugin-logging-syslog';
import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { replicationPlugin } from '@wharf/plugin-replication';
import { replicationOciPlugin } from '@wharf/plugin-replication-oci';
import { storageFsPlugin } from '@wharf/plugin-storage-fs';
import { storageS3Plugin } from '@wharf/plugin-storage-s3';
import { tagRetentionPlugin } from '@wharf/plugin-tag-retention';
import { tagImmutabilityPlugin } from '@wharf/plugin-tag-immutability';
import { webhooksPlugin } from '@wharf/plugin-webhooks';
import { quotasPlugin } from '@wharf/plugin-quotas';
import { uiPlugin } from '@wharf/plugin-ui';
import { gcPlugin } from '@wharf/plugin-gc';
import { proxyCachePlugin } from '@wharf/plugin-proxy-cache';
import { pluginNewCommand } from '@wharf/create-plugin';
import type { WharfPlugin } from '@wharf/sdk';
import { DEFAULT_EXTENSIONS } from '@wharf/core';
import { runCli } from '@wharf/core/cli';

/**
 * `@wharf/server`: the distribution. The kernel (`@wharf/core`) depends on no plugin; this
 * package ships it with the first-party plugins, the way backstage's backend-defaults ship the
 * backend system. A config key naming one of these loads it from here, and their CLI commands
 * (`wharf user`, `project`, `robot`, `replication`) are the binary's, with `wharf plugin new` from
 * `@wharf/create-plugin`.
 */

/** The plugins the `wharf` binary ships, in no particular order (the config file orders them). */
export const defaultPlugins: readonly WharfPlugin[] = Object.freeze([
  storageFsPlugin,
  storageS3Plugin,
  authDbPlugin,
  authLdapPlugin,
  rbacProjectsPlugin,
  replicationOciPlugin,
  repositoriesPlugin,
  metricsPlugin,
  auditPlugin,
  loggingSyslogPlugin,
  replicationPlugin,
  webhooksPlugin,
  tagRetentionPlugin,
  tagImmutabilityPlugin,
  quotasPlugin,
  uiPlugin,
  gcPlugin,
  proxyCachePlugin,
] as WharfPlugin[]);

/**
 * Sections the binary fills in when the config file leaves them out: the kernel's default
 * extensions (the replication engine, repository management) and the binary's own, Prometheus
 * metrics at `/metrics` for system administrators, and the web UI at `/`. A file with an `extensions` section lists
 * what it wants, these included, like every other section.
 */
export const defaultSections: Readonly<Record<string, unknown>> = Object.freeze({ extensions: { ...DEFAULT_EXTENSIONS, metrics: {}, ui: {} } });

/** Runs the `wharf` CLI with the default plugin set on `argv` (`process.argv`). */
export function main(argv: readonly string[]): Promise<void> {
  return runCli(argv, { plugins: defaultPlugins, sectionDefaults: { ...defaultSections }, pluginNew: pluginNewCommand });
}
