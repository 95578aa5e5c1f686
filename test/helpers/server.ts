import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, waitForHttp } from './net.js';
import { makeTempDir, removeDir } from './temp.js';

/** Repository root: test/dist/helpers/server.js → ../../.. */
export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

/**
 * The administrator of every Wharf started here (through WHARF_ADMIN_PASSWORD); the e2e tests
 * run Wharf on its secure defaults, so clients log in as it or as the users it creates.
 */
export const E2E_ADMIN = Object.freeze({ username: 'admin', password: 'E2e-Admin-Passw0rd' });

export interface Credentials {
  username: string;
  password: string;
}

/** An `Authorization: Basic` header value. */
export function basicAuth(who: Credentials): string {
  return `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`;
}

export interface RegistryHandle {
  /** Set when the registry needs a login (Wharf): its administrator; unset for an open one. */
  admin?: Credentials;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. 127.0.0.1:41234, the form clients put in image references */
  host: string;
  port: number;
  dataDir: string;
  logFile: string;
  process: ChildProcess;
  /** Sends a signal and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Graceful stop (SIGTERM, then SIGKILL after 10 s) and removal of the temp dirs it created. */
  stop(): Promise<void>;
  /** The last `lines` lines of the server's stdout+stderr. */
  logTail(lines?: number): Promise<string>;
}

export interface StartOptions {
  /** Written as YAML and passed with --config. */
  config?: Record<string, unknown>;
  /**
   * A config file the test wrote, passed with --config as is (plugins installed next to it are
   * found there); `config` is then ignored, and the handle names no administrator.
   */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Reuse a data dir (e.g. restart after a crash); it is then not removed by stop(). */
  dataDir?: string;
  /** Reuse a port (restart on the same address). */
  port?: number;
  readyTimeoutMs?: number;
}

// Servers still running when the test process ends (a crash, a timeout) are killed with it,
// so no registry outlives its test file.
const live = new Set<ChildProcess>();
let reaperInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (reaperInstalled) return;
  reaperInstalled = true;
  const reap = (): void => { for (const c of live) c.kill('SIGKILL'); };
  process.once('exit', reap);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => { reap(); process.exit(1); });
  }
}

interface SpawnSpec {
  label: string;
  admin?: Credentials;
  cmd: string;
  args: (ctx: { port: number; dataDir: string; workDir: string }) => Promise<string[]>;
}

async function startProcess(spec: SpawnSpec, opts: StartOptions): Promise<RegistryHandle> {
  const workDir = await makeTempDir(`${spec.label}-run`);
  const dataDir = opts.dataDir ?? join(workDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const logFile = join(workDir, `${spec.label}.log`);
  const log = await open(logFile, 'a');
  const args = await spec.args({ port, dataDir, workDir });
  const child = spawn(spec.cmd, args, {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', log.fd, log.fd],
  });
  track(child);
  // The child has its own copy of the fd.
  await log.close();
  let exited: string | undefined;
  const exitPromise = once(child, 'exit').then(([code, signal]) => {
    exited = `code ${String(code)}, signal ${String(signal)}`;
  });
  child.on('error', (err) => { exited = `spawn error: ${err.message}`; });

  const url = `http://127.0.0.1:${port}`;
  const logTail = async (lines = 60): Promise<string> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (exited) return;
    child.kill(signal);
    await exitPromise;
  };
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exitPromise.then(() => true), sleep(10_000, undefined, { ref: false }).then(() => false)]);
      if (!stopped) await kill('SIGKILL');
    }
    // A reused data dir lives in the first handle's work dir; that handle removes it.
    await removeDir(workDir);
  };
  try {
    // Any answer (a 401 challenge included) means the registry is serving.
    await waitForHttp(`${url}/v2/`, opts.readyTimeoutMs ?? 30_000, () => exited);
  } catch (err) {
    const tail = await logTail(80);
    await stop();
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${spec.label} did not start: ${msg}\n$ ${spec.cmd} ${args.join(' ')}\n--- log ---\n${tail}`);
  }
  return { ...(spec.admin ? { admin: spec.admin } : {}), url, host: `127.0.0.1:${port}`, port, dataDir, logFile, process: child, kill, stop, logTail };
}

/**
 * Starts `node server/bin/wharf.js serve` on a free port with a temp data dir, on the secure
 * defaults unless `config` says otherwise, with E2E_ADMIN as its administrator.
 */
export function startWharf(opts: StartOptions = {}): Promise<RegistryHandle> {
  const withAdmin = opts.configFile === undefined && !isOpenConfig(opts.config);
  return startProcess({
    label: 'wharf',
    ...(withAdmin ? { admin: E2E_ADMIN } : {}),
    cmd: process.execPath,
    args: async ({ port, dataDir, workDir }) => {
      const args = [join(repoRoot, 'server/bin/wharf.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir];
      if (opts.configFile !== undefined) {
        args.push('--config', opts.configFile);
      } else if (opts.config) {
        const file = join(workDir, 'config.yaml');
        // JSON is valid YAML, so no YAML writer is needed.
        await writeFile(file, JSON.stringify(opts.config, null, 2));
        args.push('--config', file);
      }
      return args;
    },
  }, { ...opts, env: { WHARF_ADMIN_PASSWORD: E2E_ADMIN.password, ...opts.env } });
}

/** A config that turns token auth off and configures no auth plugin runs open. */
function isOpenConfig(config: Record<string, unknown> | undefined): boolean {
  const token = config?.['token'] as { enabled?: unknown } | undefined;
  return token?.enabled === false && Array.isArray(config?.['auth']) && config['auth'].length === 0;
}

/** Starts Debian's `docker-registry` (distribution 2.8) the same way, as a reference peer. */
export function startReference(opts: StartOptions = {}): Promise<RegistryHandle> {
  return startProcess({
    label: 'reference',
    cmd: 'docker-registry',
    args: async ({ port, dataDir, workDir }) => {
      const config = {
        version: '0.1',
        log: { level: 'info' },
        storage: {
          filesystem: { rootdirectory: dataDir },
          delete: { enabled: true },
          cache: { blobdescriptor: 'inmemory' },
        },
        http: { addr: `127.0.0.1:${port}`, secret: 'not-a-secret' },
        ...opts.config,
      };
      const file = join(workDir, 'config.yml');
      await writeFile(file, JSON.stringify(config, null, 2));
      return ['serve', file];
    },
  }, opts);
}

/**
 * The registry under test: Wharf, or the reference registry when WHARF_E2E_TARGET=reference
 * (used to check the client commands themselves).
 */
export function startTarget(opts: StartOptions = {}): Promise<RegistryHandle> {
  return process.env['WHARF_E2E_TARGET'] === 'reference' ? startReference(opts) : startWharf(opts);
}
