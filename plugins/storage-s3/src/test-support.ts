/**
 * Test support for the S3 driver: a real s3rver in a child process, the switch to a real
 * endpoint from environment variables, a leftovers check, a request counter and a
 * fault-injecting proxy. Used by this package's tests and by the e2e tests; not part of the
 * driver. `s3rver` (a dev dependency) is resolved only when a server is started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from './client.js';
import type { S3StorageDriverOptions } from './s3-driver.js';

// The SDK warns once per process that it will need Node 22 from 2027; tests need no reminder.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** s3rver accepts only this access key (and does not check SigV4 signatures at all). */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

/** A running s3rver. */
export interface S3rverHandle {
  readonly endpoint: string;
  readonly port: number;
  /** Its data directory (removed by `stop`). */
  readonly dir: string;
  readonly process: ChildProcess;
  /** Driver options for `bucket` on this server (path-style, s3rver's credentials). */
  options(bucket: string): S3StorageDriverOptions;
  createBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Two rewrites of s3rver 3.7.1's filesystem store (idempotent; the first as ../shared/infra.md describes):
 * - it lists `Prefix` + `Delimiter` wrongly: it skips directories below a common prefix;
 * - after deleting an object it `readdirSync`s each parent directory to see whether it became
 *   empty, so a delete costs O(objects beside it): with 100,000 blobs every delete of a
 *   `data/<upload>` key read a 300,000-entry directory. `rmdir` refuses a directory that is
 *   not empty, which answers the same question in O(1) (and without the race where the
 *   directory fills between the read and the `rmdir`). S3 has no directories; this keeps the
 *   emulator from charging for them (docs/benchmarks.md).
 */
const S3RVER_PATCHES: ReadonlyArray<readonly [from: string, to: string]> = [
  ['// avoid directories occurring beneath a common prefix\n          return false;', '// patched: walk below common prefixes too\n          return true;'],
  [
    `    while (
      parts.length &&
      !fs.readdirSync(path.join(bucketPath, ...parts)).length
    ) {
      await fs.rmdir(path.join(bucketPath, ...parts));
      parts.pop();
    }`,
    `    // patched: rmdir refuses a directory that is not empty; no listing needed
    while (parts.length) {
      try {
        await fs.rmdir(path.join(bucketPath, ...parts));
      } catch (err) {
        if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST' || err.code === 'ENOENT') break;
        throw err;
      }
      parts.pop();
    }`,
  ],
];

export function patchS3rver(): void {
  const require = createRequire(import.meta.url);
  const file = require.resolve('s3rver/lib/stores/filesystem.js');
  const source = readFileSync(file, 'utf8');
  let next = source;
  for (const [from, to] of S3RVER_PATCHES) next = next.replace(from, to);
  if (next === source) return;
  // Written aside and renamed: test files run in parallel, and one may start s3rver (reading
  // this file) while another patches it.
  const patched = `${file}.${process.pid}.tmp`;
  writeFileSync(patched, next);
  renameSync(patched, file);
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!port) throw new Error('no free port');
  return port;
}

/**
 * Starts s3rver as a child process on a free port with its own temp directory, and waits until
 * it answers. `NODE_OPTIONS=--openssl-legacy-provider` is set for the child: s3rver encrypts
 * ListObjectsV2 continuation tokens with DES, which Node 20 refuses without it.
 */
export async function startS3rver(): Promise<S3rverHandle> {
  patchS3rver();
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-s3rver-'));
  const port = await freePort();
  const child = spawn(process.execPath, [bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent'], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  // A test process that dies must not leave the server behind.
  const reap = (): void => void child.kill('SIGKILL');
  process.once('exit', reap);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with ${child.exitCode}: ${stderr}`);
    try {
      await (await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) })).arrayBuffer();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`s3rver did not answer on ${endpoint}: ${String(err)}\n${stderr}`);
      }
      await sleep(50);
    }
  }
  const options = (bucket: string): S3StorageDriverOptions => ({
    bucket,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
  });
  return {
    endpoint,
    port,
    dir,
    process: child,
    options,
    async createBucket(bucket) {
      const client = createS3Client(options(bucket));
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    },
    async stop() {
      process.removeListener('exit', reap);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Where the S3 tests run: a real endpoint when `WHARF_S3_TEST_BUCKET` is set, else a fresh
 * s3rver. Every run uses its own key prefix, so a shared bucket is safe to test against and the
 * leftovers check sees only this run's objects.
 *
 * | variable | meaning |
 * |---|---|
 * | `WHARF_S3_TEST_BUCKET` | existing bucket (switches to the real endpoint) |
 * | `WHARF_S3_TEST_ENDPOINT` | endpoint URL; unset for AWS |
 * | `WHARF_S3_TEST_REGION` | region (default `us-east-1`) |
 * | `WHARF_S3_TEST_ACCESS_KEY`, `WHARF_S3_TEST_SECRET_KEY` | credentials; unset for the AWS credential chain |
 * | `WHARF_S3_TEST_PATH_STYLE` | `true`/`false` (default: `true` when an endpoint is set) |
 * | `WHARF_S3_TEST_PREFIX` | parent prefix of the per-run prefixes (default `wharf-test/`) |
 */
export interface S3TestTarget {
  /** `s3rver`, or the real endpoint's description. */
  readonly kind: 's3rver' | 'endpoint';
  readonly description: string;
  /** Driver options with a fresh prefix of this run. */
  options(extra?: Partial<S3StorageDriverOptions>): S3StorageDriverOptions;
  /** The running s3rver, when the target is one. */
  readonly s3rver: S3rverHandle | undefined;
  stop(): Promise<void>;
}

export async function openS3TestTarget(): Promise<S3TestTarget> {
  const env = process.env;
  const bucket = env['WHARF_S3_TEST_BUCKET'];
  const runPrefix = (parent: string): string => `${parent}${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/`;
  if (bucket) {
    const endpoint = env['WHARF_S3_TEST_ENDPOINT'] || undefined;
    const pathStyle = env['WHARF_S3_TEST_PATH_STYLE'] ? env['WHARF_S3_TEST_PATH_STYLE'] === 'true' : endpoint !== undefined;
    const parent = env['WHARF_S3_TEST_PREFIX'] ?? 'wharf-test/';
    const base: S3StorageDriverOptions = {
      bucket,
      endpoint,
      region: env['WHARF_S3_TEST_REGION'] ?? 'us-east-1',
      forcePathStyle: pathStyle,
      accessKeyId: env['WHARF_S3_TEST_ACCESS_KEY'] || undefined,
      secretAccessKey: env['WHARF_S3_TEST_SECRET_KEY'] || undefined,
    };
    return {
      kind: 'endpoint',
      description: `bucket ${bucket} at ${endpoint ?? 'AWS'}`,
      options: (extra = {}) => ({ ...base, prefix: runPrefix(parent), ...extra }),
      s3rver: undefined,
      stop: async () => undefined,
    };
  }
  const server = await startS3rver();
  const name = `wharf-${randomBytes(4).toString('hex')}`;
  await server.createBucket(name);
  return {
    kind: 's3rver',
    description: `s3rver at ${server.endpoint}`,
    options: (extra = {}) => ({ ...server.options(name), prefix: runPrefix('run-'), ...extra }),
    s3rver: server,
    stop: () => server.stop(),
  };
}

/**
 * Everything left under `prefix`: object keys, plus `multipart:<key>` for unfinished multipart
 * uploads where the store can list them (s3rver cannot: its unfinished parts stay in its data
 * directory, outside any listing).
 */
export async function listLeftovers(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const left: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key) left.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    for (const upload of uploads.Uploads ?? []) left.push(`multipart:${upload.Key ?? '?'}`);
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 405 && status !== 501) throw err;
  }
  return left;
}

/** Counts the commands a client sends (`PutObjectCommand` → `PutObject`), through an SDK middleware. */
export function countCommands(client: S3Client): { counts: Map<string, number>; reset(): void } {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: `wharfCommandCounter${randomBytes(3).toString('hex')}` },
  );
  return { counts, reset: () => counts.clear() };
}

/** A proxy in front of an S3 endpoint that answers some requests with an error instead. */
export interface FaultProxy {
  readonly endpoint: string;
  /** Requests seen, with the status they got. */
  readonly seen: Array<{ method: string; url: string; status: number }>;
  /** Fails the next `count` requests matching `match` with `status` and an S3 error body of `code`. */
  failNext(count: number, status: number, code: string, match?: (req: IncomingMessage) => boolean): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const seen: FaultProxy['seen'] = [];
  let plan: { left: number; status: number; code: string; match: (req: IncomingMessage) => boolean } | undefined;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const entry = { method: req.method ?? 'GET', url: req.url ?? '/', status: 0 };
    seen.push(entry);
    if (plan && plan.left > 0 && plan.match(req)) {
      plan.left -= 1;
      entry.status = plan.status;
      req.resume();
      res.writeHead(plan.status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${plan.code}</Code><Message>injected by the test proxy</Message></Error>`);
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    failNext(count, status, code, match = () => true) {
      plan = { left: count, status, code, match };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
