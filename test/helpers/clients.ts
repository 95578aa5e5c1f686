import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir } from './temp.js';
import { run, runOk, type RunOptions, type RunResult } from './run.js';

/**
 * skopeo, podman and buildah with state isolated in one temp dir: their own auth file,
 * containers.conf, registries.conf, storage root, run root and temp dir. Nothing touches
 * /var/lib/containers or the machine's auth.json. Plain-HTTP registries need
 * --tls-verify=false, which the caller passes (it is part of what a test exercises).
 */
export interface ClientSandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** skopeo with --policy and --tmpdir pointing into the sandbox. */
  skopeo(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  podman(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  buildah(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** The same, throwing with the full output unless the exit code is 0. */
  skopeoOk(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  podmanOk(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  buildahOk(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /**
   * `skopeo login` into the sandbox's auth file, which podman and buildah read too; throws
   * unless it succeeds. The password goes through stdin, never the command line.
   */
  login(host: string, who: { username: string; password: string }): Promise<RunResult>;
  cleanup(): Promise<void>;
}

// vfs needs no mounts, so the sandbox can always be deleted with rm -rf.
const storageDriver = process.env['WHARF_E2E_STORAGE_DRIVER'] ?? 'vfs';

export async function createClientSandbox(): Promise<ClientSandbox> {
  const dir = await makeTempDir('clients');
  const p = (name: string): string => join(dir, name);
  await Promise.all(['root', 'runroot', 'tmp', 'libpod-tmp'].map((d) => mkdir(p(d), { recursive: true })));
  // REGISTRY_AUTH_FILE must exist, or podman refuses to start.
  await writeFile(p('auth.json'), '{}\n');
  await writeFile(p('policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(p('registries.conf'), 'unqualified-search-registries = []\n');
  await writeFile(p('containers.conf'), [
    '[containers]',
    // The default nofile limit is above this machine's hard limit (see infra.md section 3).
    'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]',
    '[engine]',
    'runtime = "runc"',
    'events_logger = "none"',
    '',
  ].join('\n'));
  await writeFile(p('storage.conf'), [
    '[storage]',
    `driver = "${storageDriver}"`,
    `graphroot = "${p('root')}"`,
    `runroot = "${p('runroot')}"`,
    '',
  ].join('\n'));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REGISTRY_AUTH_FILE: p('auth.json'),
    CONTAINERS_CONF: p('containers.conf'),
    CONTAINERS_REGISTRIES_CONF: p('registries.conf'),
    CONTAINERS_STORAGE_CONF: p('storage.conf'),
    TMPDIR: p('tmp'),
  };
  const storageFlags = ['--root', p('root'), '--runroot', p('runroot'), '--storage-driver', storageDriver];
  const withEnv = (opts: RunOptions = {}): RunOptions => ({ ...opts, env: { ...env, ...opts.env } });

  const skopeoArgs = (args: readonly string[]): string[] =>
    ['--policy', p('policy.json'), '--tmpdir', p('tmp'), ...args];
  const podmanArgs = (args: readonly string[]): string[] =>
    [...storageFlags, '--tmpdir', p('libpod-tmp'), '--events-backend', 'none', '--cgroup-manager', 'cgroupfs', ...args];
  const buildahArgs = (args: readonly string[]): string[] =>
    [...storageFlags, '--registries-conf', p('registries.conf'), ...args];

  return {
    dir,
    env,
    skopeo: (args, opts) => run('skopeo', skopeoArgs(args), withEnv(opts)),
    podman: (args, opts) => run('podman', podmanArgs(args), withEnv(opts)),
    buildah: (args, opts) => run('buildah', buildahArgs(args), withEnv(opts)),
    skopeoOk: (args, opts) => runOk('skopeo', skopeoArgs(args), withEnv(opts)),
    podmanOk: (args, opts) => runOk('podman', podmanArgs(args), withEnv(opts)),
    buildahOk: (args, opts) => runOk('buildah', buildahArgs(args), withEnv(opts)),
    login: (host, who) => runOk('skopeo', skopeoArgs(['login', '--tls-verify=false', '--username', who.username, '--password-stdin', host]), withEnv({ input: who.password })),
    cleanup: () => removeDir(dir),
  };
}
