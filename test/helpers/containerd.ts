import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunOptions, type RunResult } from './run.js';
import { makeTempDir, removeDir } from './temp.js';

/**
 * Debian's containerd as a client, the way a Kubernetes node pulls: a daemon of its own with
 * root, state and socket in a temp dir (the CRI plugin off: no container ever starts here) and
 * `ctr` talking to that socket in its own namespace. Layers are unpacked with the `native`
 * snapshotter, which needs no mounts.
 */
export interface Containerd {
  readonly dir: string;
  ctr(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  stop(): Promise<void>;
  logTail(lines?: number): Promise<string>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = await makeTempDir('containerd');
  const socket = join(dir, 'containerd.sock');
  await writeFile(join(dir, 'config.toml'), [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${socket}"`,
    '[ttrpc]',
    `  address = "${socket}.ttrpc"`,
    '',
  ].join('\n'));
  const logFile = join(dir, 'containerd.log');
  const log = await open(logFile, 'a');
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  let exited = false;
  const exit = once(child, 'exit').then(() => { exited = true; });
  child.on('error', () => { exited = true; });
  process.once('exit', () => child.kill('SIGKILL'));
  const logTail = async (lines = 40) => (await readFile(logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n');
  const env = { ...process.env, CONTAINERD_SNAPSHOTTER: 'native', CONTAINERD_NAMESPACE: 'wharf-e2e' };
  const ctr = (args: readonly string[], opts: RunOptions = {}) => run('ctr', ['--address', socket, ...args], { timeoutMs: 60_000, ...opts, env: { ...env, ...opts.env } });
  for (let waited = 0; ; waited += 100) {
    if (exited || waited > 15_000) {
      const tail = await logTail();
      await removeDir(dir);
      throw new Error(`containerd did not start\n${tail}`);
    }
    if (await access(socket).then(() => true, () => false)) {
      if ((await ctr(['version'])).code === 0) break;
    }
    await sleep(100);
  }
  return {
    dir,
    ctr,
    logTail,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await Promise.race([exit, sleep(10_000).then(() => child.kill('SIGKILL'))]);
      }
      await removeDir(dir);
    },
  };
}
