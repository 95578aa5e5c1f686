import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { RegistryError, type BlobRequest, type BlobSource, type Digest } from '@wharf/sdk';
import { classify, clientError, notFound, withTimeout, type UpstreamFailure } from './failures.js';
import { PROXY_PRINCIPAL, proxiedRepository, worstFailure, type ProxiedRepository, type ProxyDeps } from './proxy.js';
import { SpoolFlight } from './spool.js';

/**
 * The blob side of a proxy-cache project (`registry.fetchBlob`, asked when the repository lacks
 * a blob). A blob another repository holds and one of this repository's manifests references is
 * linked without any upstream request; otherwise it is streamed from the first upstream that has
 * it, to the client and into storage at once, one download per blob on this node however many
 * clients ask meanwhile (see spool.ts). The stored blob is committed through
 * `coreServices.content.putBlob`, which hashes the bytes once as it writes them, checks the
 * digest, runs the gates (quotas) and raises the events of any pushed blob.
 */

interface Flight {
  readonly spool: SpoolFlight;
  readonly upstream: string;
  /** The repository the download commits into. */
  readonly repository: string;
  /** Repositories that asked for the blob meanwhile: each gets it linked once it is stored. */
  readonly repositories: Set<string>;
}

export interface BlobProxy {
  fetch(request: BlobRequest): Promise<BlobSource | undefined>;
  /** Stops running downloads (shutdown). */
  close(): Promise<void>;
}

export function createBlobProxy(deps: ProxyDeps, spoolDir: string): BlobProxy {
  const flights = new Map<Digest, Promise<Flight>>();
  const sources = new Set<{ destroy(): void }>();

  async function start(repository: string, proxied: ProxiedRepository, digest: Digest): Promise<Flight> {
    const failures: UpstreamFailure[] = [...proxied.unusable];
    for (const upstream of proxied.upstreams) {
      const upstreamRepository = upstream.repositoryFor(proxied.path);
      let reader;
      try {
        reader = await withTimeout(deps.timeoutSeconds, upstream.target.readBlob(upstreamRepository, digest, undefined, { verify: false }));
      } catch (err) {
        const failure = classify(upstream.name, err);
        failures.push(failure.kind === 'not-found' ? notFound(upstream.name, `${upstreamRepository}@${digest}`) : failure);
        continue;
      }
      const spool = await SpoolFlight.create(digest, reader.size, path.join(spoolDir, `${digest.replace(':', '-')}-${randomUUID()}`)).catch((err: unknown) => {
        reader.stream.destroy();
        deps.logger.error({ err: err instanceof Error ? err.message : String(err), spoolDir }, 'proxy-cache cannot create a spool file');
        throw new RegistryError('UNKNOWN', 'proxy cache: cannot spool the blob on this node', { status: 503 });
      });
      const flight: Flight = { spool, upstream: upstream.name, repository, repositories: new Set([repository]) };
      sources.add(reader.stream);
      void run(repository, flight, reader.stream).finally(() => sources.delete(reader.stream));
      return flight;
    }
    const failure = worstFailure(failures, `${proxied.path}@${digest}`, proxied.primary);
    deps.metrics.request(failure.upstream, 'error');
    deps.logger.warn({ repository, digest, upstream: failure.upstream, answer: failure.answer, error: failure.message }, 'proxy-cache blob not available');
    throw clientError(failure, 'BLOB_UNKNOWN', `${proxied.path}@${digest}`);
  }

  /**
   * Downloads into storage and the spool in one pass; links the blob into every repository that
   * asked. The upstream's bytes are not hashed by the adapter (`verify: false`): `putBlob` hashes
   * them while it writes and refuses a wrong digest, and spool readers end only after it committed.
   */
  async function run(repository: string, flight: Flight, source: Readable): Promise<void> {
    const { spool } = flight;
    const data = source.pipe(spool.tee((n) => deps.metrics.upstreamBytes(flight.upstream, n)));
    source.once('error', (err) => data.destroy(err));
    let failure: unknown;
    try {
      await deps.content.putBlob(repository, { digest: spool.digest, size: spool.size, data }, { principal: PROXY_PRINCIPAL });
    } catch (err) {
      failure = err ?? new Error('the blob could not be stored');
      source.destroy();
    }
    await spool.settle(failure);
    try {
      if (failure !== undefined) throw failure;
      for (const other of flight.repositories) {
        if (other !== repository) await deps.content.mountBlob(other, spool.digest, repository, { principal: PROXY_PRINCIPAL }).catch((err: unknown) => {
          deps.logger.warn({ repository: other, digest: spool.digest, err: err instanceof Error ? err.message : String(err) }, 'proxy-cache could not link a fetched blob');
        });
      }
      deps.logger.info({ repository, digest: spool.digest, size: spool.size, upstream: flight.upstream }, 'proxy-cache blob stored');
    } catch (err) {
      deps.logger.warn({ repository, digest: spool.digest, upstream: flight.upstream, err: err instanceof Error ? err.message : String(err) }, 'proxy-cache blob not stored');
    } finally {
      flights.delete(spool.digest);
      spool.finish();
    }
  }

  /** A blob another repository holds, linked here when this repository's manifests reference it. */
  async function linkHeld(repository: string, digest: Digest): Promise<boolean> {
    const held = await deps.blobs.stat(digest);
    const from = held?.repositories.find((r) => r !== repository);
    if (!from) return false;
    const page = await deps.artifacts.listReferencing(digest, { limit: 1000 });
    if (!page.items.some((ref) => ref.repository === repository)) return false;
    return deps.content.mountBlob(repository, digest, from, { principal: PROXY_PRINCIPAL });
  }

  return {
    async fetch(request) {
      const proxied = await proxiedRepository(deps, request.repository);
      if (!proxied) return undefined;
      const { repository, digest } = request;
      if (!flights.has(digest) && (await linkHeld(repository, digest))) {
        deps.metrics.request(proxied.primary, 'hit');
        const blob = await deps.blobs.read(repository, digest);
        if (request.method === 'HEAD') blob.stream.destroy();
        return { size: blob.size, stream: request.method === 'HEAD' ? undefined : blob.stream };
      }
      let pending = flights.get(digest);
      if (!pending) {
        pending = start(repository, proxied, digest);
        flights.set(digest, pending);
        pending.catch(() => flights.delete(digest));
      }
      const flight = await pending;
      flight.repositories.add(repository);
      deps.metrics.request(flight.upstream, 'miss');
      if (request.method === 'HEAD') return { size: flight.spool.size, stream: undefined };
      const stream = await flight.spool.attach();
      if (stream) return { size: flight.spool.size, stream };
      // The download finished between the two awaits: the blob is in storage now (or failed).
      const stored = (await deps.blobs.inRepository(repository, digest))
        ?? ((await deps.content.mountBlob(repository, digest, flight.repository, { principal: PROXY_PRINCIPAL }).catch(() => false)) || undefined);
      if (!stored) throw clientError({ upstream: flight.upstream, kind: 'unavailable', answer: 'a blob that could not be stored', message: flight.spool.error?.message ?? '' }, 'BLOB_UNKNOWN', digest);
      const blob = await deps.blobs.read(repository, digest);
      return { size: blob.size, stream: blob.stream };
    },
    async close() {
      for (const source of sources) source.destroy();
    },
  };
}
