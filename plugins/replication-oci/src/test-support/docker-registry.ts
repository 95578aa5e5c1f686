import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * Debian's `docker-registry` (distribution 2.8) as a child process on a free port of
 * 127.0.0.1, in a temp dir removed at stop: a real reference registry for the adapter's tests.
 */

const run = promisify(execFile);

export interface DockerRegistryOptions {
  /** Users for htpasswd (Basic) auth; none: an open registry. */
  readonly users?: ReadonlyArray<{ readonly username: string; readonly password: string }> | undefined;
  /** Serve HTTPS with this certificate and key (PEM file paths). */
  readonly tls?: { readonly certificate: string; readonly key: string } | undefined;
}

export interface DockerRegistryHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The last lines of the registry's log, for failure messages. */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM (SIGKILL after 5 s), then the temp dir is removed. Idempotent. */
  stop(): Promise<void>;
}

/** A free port of 127.0.0.1 (bound, then released; the registry binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

const live = new Set<ChildProcess>();
let reaper = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (reaper) return;
  reaper = true;
  // A crashed or timed-out test file must not leave registries behind.
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Whether 127.0.0.1:port accepts a TCP connection. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startDockerRegistry(options: DockerRegistryOptions = {}): Promise<DockerRegistryHandle> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-oci-distribution-'));
  const port = await freePort();
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: path.join(dir, 'data') }, delete: { enabled: true }, cache: { blobdescriptor: 'inmemory' } },
    http: { addr: `127.0.0.1:${port}`, secret: 'not-a-secret', ...(options.tls ? { tls: { ...options.tls } } : {}) },
  };
  if (options.users && options.users.length > 0) {
    const file = path.join(dir, 'htpasswd');
    for (const [i, user] of options.users.entries()) {
      // bcrypt (-B) is the only scheme distribution honours; cost 4 keeps logins fast in tests.
      await run('htpasswd', ['-B', '-C', '4', '-b', ...(i === 0 ? ['-c'] : []), file, user.username, user.password]);
    }
    config['auth'] = { htpasswd: { realm: 'wharf-test', path: file } };
  }
  const configFile = path.join(dir, 'config.yml');
  // JSON is YAML.
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(dir, 'registry.log');
  const log = await open(logFile, 'a');
  const child = spawn('docker-registry', ['serve', configFile], { cwd: dir, stdio: ['ignore', log.fd, log.fd] });
  track(child);
  await log.close();
  let exited: string | undefined;
  const exit = once(child, 'exit').then(([code, signal]) => {
    exited = `code ${String(code)}, signal ${String(signal)}`;
  });
  child.on('error', (err) => {
    exited = `spawn error: ${err.message}`;
  });

  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const logTail = async (lines = 40) => (await readFile(logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n');
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const gone = await Promise.race([exit.then(() => true), sleep(5000, false, { ref: false })]);
        if (!gone) {
          child.kill('SIGKILL');
          await exit;
        }
      }
      await rm(dir, { recursive: true, force: true });
    })());

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) {
      const tail = await logTail();
      await stop();
      throw new Error(`docker-registry exited (${exited}) before serving:\n${tail}`);
    }
    // Any answer, a 401 included, means it serves (over TLS: an accepted connection).
    const ok = options.tls
      ? await accepts(port)
      : await fetch(`${url}/v2/`).then(
          () => true,
          () => false,
        );
    if (ok) break;
    if (Date.now() > deadline) {
      const tail = await logTail();
      await stop();
      throw new Error(`docker-registry did not answer on ${url} within 15 s:\n${tail}`);
    }
    await sleep(30);
  }
  return { url, port, logTail, stop };
}
