import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { defaultSections } from '@wharf/server';
import { pipeline } from 'node:stream/promises';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';
import { registryTest } from '../helpers/e2e.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { hashWebStream, sha256 } from '../helpers/hash.js';
import { freePort } from '../helpers/net.js';
import { pushReferrer } from '../helpers/oci-artifacts.js';
import { asAdmin, describeHttp, registryRequest, request, uploadUrl, type HttpResult } from '../helpers/oci-http.js';
import { PatternSource } from '../helpers/pattern-stream.js';
import { createEndpoint } from '../helpers/replication.js';
import { describeRun, runOk, type RunResult } from '../helpers/run.js';
import { startReference, startWharf, type Credentials, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { api } from '../helpers/wharf-api.js';
import { multiPlatformLayout, singleImageLayout } from '../fixtures/images.js';
import { MT, type BuiltImage, type Descriptor, type OciLayout } from '../fixtures/oci-layout.js';

/**
 * Proxy-cache projects (issue 15) against real upstreams started here: docker-registry open
 * (`hub`, behind a fault proxy that counts what reaches it and plays 429, 503 and "down"),
 * docker-registry with htpasswd (`private`), and a second Wharf with token auth (`peer`, behind
 * a counting proxy that is also its public URL, so token requests are counted too). Clients:
 * skopeo, podman, containerd's `ctr` and fetch (headers, OCI errors, 10 concurrent pulls of a
 * 256 MiB image).
 */

const HUB_PROJECT = 'cache';
const AUTH_PROJECT = 'cache-auth';
const PEER_PROJECT = 'cache-peer';
const CHAIN_PROJECT = 'cache-chain';
const PEER_UPSTREAM_PROJECT = 'upstream';
const MIRROR_USER: Credentials = { username: 'mirror', password: 'Mirror-Passw0rd-1' };
const DEVELOPER: Credentials = { username: 'devon', password: 'Devon-E2e-Passw0rd' };
const UPSTREAM_TIMEOUT_SECONDS = 2;
const defaultExtensions = defaultSections['extensions'] as Record<string, unknown>;
const BIG_LAYER_BYTES = 128 * 1024 * 1024;
const ACCEPT = [MT.manifest, MT.index, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

let work: string | undefined;
let server: RegistryHandle | undefined;
let hubRegistry: RegistryHandle | undefined;
let privateRegistry: RegistryHandle | undefined;
let peer: RegistryHandle | undefined;
let hub: FaultProxy | undefined;
let peerProxy: FaultProxy | undefined;
let containerd: Containerd | undefined;
let clients: ClientSandbox | undefined;
let single: { layout: OciLayout; image: BuiltImage };
let other: { layout: OciLayout; image: BuiltImage };
let multi: { layout: OciLayout; index: Descriptor; children: BuiltImage[] };
let sbom: Descriptor;
let metricsAtStart: string;

const ready = <T>(value: T | undefined, what: string): T => {
  assert.ok(value, `${what} not started`);
  return value;
};
const srv = (): RegistryHandle => ready(server, 'Wharf');
const hubProxy = (): FaultProxy => ready(hub, 'the fault proxy in front of docker-registry');
const sandbox = (): ClientSandbox => ready(clients, 'client sandbox');
const ctrd = (): Containerd => ready(containerd, 'containerd');

before(async () => {
  work = await makeTempDir('proxy-cache');
  const htpasswd = join(work, 'htpasswd');
  await runOk('htpasswd', ['-B', '-b', '-c', htpasswd, MIRROR_USER.username, MIRROR_USER.password]);
  // The peer's public URL (its token realm) is the counting proxy in front of it, which is
  // started first on the port the peer will listen on.
  const peerPort = await freePort();
  peerProxy = await startFaultProxy(`http://127.0.0.1:${peerPort}`);
  [server, hubRegistry, privateRegistry, peer, containerd, clients] = await Promise.all([
    // A short upstream timeout, so the test of a hanging upstream waits 2 s, not 15. (The binary's
    // default extensions are listed: a section written replaces the default one.)
    startWharf({ config: { extensions: { ...defaultExtensions, 'proxy-cache': { upstreamTimeoutSeconds: UPSTREAM_TIMEOUT_SECONDS } } } }),
    startReference(),
    startReference({ config: { auth: { htpasswd: { realm: 'mirror', path: htpasswd } } } }),
    startWharf({ port: peerPort, config: { server: { publicUrl: peerProxy.url } } }),
    startContainerd(),
    createClientSandbox(),
  ]);
  hub = await startFaultProxy(hubRegistry.url);

  single = await singleImageLayout(join(work, 'single'));
  other = await singleImageLayout(join(work, 'other'), 'v2');
  multi = await multiPlatformLayout(join(work, 'multi'));

  // The upstreams hold the images, pushed there directly (not through any proxy).
  const copy = (args: string[]) => sandbox().skopeoOk(['copy', '--all', '--dest-tls-verify=false', ...args]);
  await copy([single.layout.ref('v1'), `docker://${hubRegistry.host}/library/hello:v1`]);
  await copy([single.layout.ref('v1'), `docker://${hubRegistry.host}/library/moving:v1`]);
  await copy([multi.layout.ref('multi'), `docker://${hubRegistry.host}/library/multi:v1`]);
  await copy(['--dest-creds', `${MIRROR_USER.username}:${MIRROR_USER.password}`, single.layout.ref('v1'), `docker://${privateRegistry.host}/mirror/app:v1`]);
  await api(peer, 'POST', '/projects', { name: PEER_UPSTREAM_PROJECT, public: false }, { expect: 201 });
  await copy(['--dest-creds', `${peer.admin!.username}:${peer.admin!.password}`, single.layout.ref('v1'), `docker://${peer.host}/${PEER_UPSTREAM_PROJECT}/app:v1`]);
  const { platform: _p, ...subject } = single.image.manifest;
  sbom = await pushReferrer(peer, `${PEER_UPSTREAM_PROJECT}/app`, subject, 'application/vnd.example.signature.v1+json', '{"signed":"by e2e"}');

  // Wharf under test: one endpoint per upstream, one proxy project per endpoint, and one
  // project whose first upstream is down (the next one must serve).
  await createEndpoint(srv(), 'hub', hubProxy().url);
  await createEndpoint(srv(), 'private', privateRegistry.url, MIRROR_USER);
  await createEndpoint(srv(), 'peer', peerProxy.url, peer.admin);
  await createEndpoint(srv(), 'dead', `http://127.0.0.1:${await freePort()}`);
  const proxyProjects: [string, { registry: string; pathPrefix: string }[]][] = [
    [HUB_PROJECT, [{ registry: 'hub', pathPrefix: 'library/' }]],
    [AUTH_PROJECT, [{ registry: 'private', pathPrefix: 'mirror/' }]],
    [PEER_PROJECT, [{ registry: 'peer', pathPrefix: `${PEER_UPSTREAM_PROJECT}/` }]],
    [CHAIN_PROJECT, [{ registry: 'dead', pathPrefix: 'library/' }, { registry: 'hub', pathPrefix: 'library/' }]],
  ];
  for (const [name, upstreams] of proxyProjects) {
    await api(srv(), 'POST', '/projects', { name, public: true }, { expect: 201 });
    await api(srv(), 'PUT', `/projects/${name}/proxy-cache`, { upstreams }, { expect: 200 });
  }
  await api(srv(), 'POST', '/users', DEVELOPER, { expect: 201 });
  await sandbox().login(srv().host, srv().admin!);
  metricsAtStart = await scrapeMetrics();
});

after(async () => {
  await containerd?.stop();
  await hub?.stop();
  await peerProxy?.stop();
  await Promise.all([server?.stop(), hubRegistry?.stop(), privateRegistry?.stop(), peer?.stop()]);
  await clients?.cleanup();
  if (work) await removeDir(work);
});

function assertOk(r: RunResult): RunResult {
  assert.equal(r.code, 0, describeRun(r));
  return r;
}

/** A manifest GET (or HEAD) on Wharf as the administrator, over plain HTTP. */
function manifest(repo: string, reference: string, method = 'GET'): Promise<HttpResult> {
  return registryRequest(srv(), `/v2/${repo}/manifests/${reference}`, { method, headers: { accept: ACCEPT } });
}

/** The first OCI error of a response body (and fails when the body is not one). */
function ociError(r: HttpResult): { code: string; message: string } {
  let body: { errors?: { code: string; message: string }[] };
  try {
    body = JSON.parse(r.text) as typeof body;
  } catch {
    throw new Error(`not an OCI error body\n${describeHttp('response', r)}`);
  }
  const first = body.errors?.[0];
  assert.ok(first && typeof first.code === 'string' && typeof first.message === 'string', describeHttp('not an OCI error body', r));
  return first;
}

/** The digest containerd recorded for an image it holds (`ctr images ls`). */
async function ctrDigest(name: string, namespace?: string): Promise<string | undefined> {
  const out = assertOk(await ctrd().ctr(['images', 'ls'], namespace ? { env: { CONTAINERD_NAMESPACE: namespace } } : {})).stdout;
  return out.split('\n').find((l) => l.startsWith(`${name} `))?.match(/sha256:[0-9a-f]{64}/)?.[0];
}

/** The manifest digest skopeo reads for a reference on Wharf (hash of `inspect --raw`). */
async function skopeoDigest(ref: string): Promise<string> {
  return sha256(assertOk(await sandbox().skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${srv().host}/${ref}`])).stdout);
}

/** `skopeo copy` from Wharf into an OCI layout; resolves the manifest digest it wrote. */
async function skopeoPull(ref: string, dir: string): Promise<string> {
  assertOk(await sandbox().skopeo(['copy', '--src-tls-verify=false', `docker://${srv().host}/${ref}`, `oci:${dir}:pulled`]));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const pulled = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'pulled');
  assert.ok(pulled, `no "pulled" tag in ${dir}`);
  return pulled.digest;
}

async function scrapeMetrics(): Promise<string> {
  const r = await registryRequest(srv(), '/metrics');
  assert.equal(r.status, 200, describeHttp('GET /metrics', r));
  return r.text;
}

/** The sum of a metric's samples whose labels include all of `labels`. */
function metric(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Blob GETs that reached docker-registry for `repo` through the fault proxy, by digest. */
function upstreamBlobGets(repo: string, digest: string): number {
  return hubProxy().count('GET', `/v2/${repo}/blobs/${digest}`);
}

registryTest('the proxy-cache API: system administrators only; GET, PUT and DELETE', srv, async () => {
  await api(srv(), 'POST', '/projects', { name: 'plain', public: false }, { expect: 201 });
  await api(srv(), 'GET', '/projects/plain/proxy-cache', undefined, { expect: 404 });
  const body = { upstreams: [{ registry: 'hub', pathPrefix: 'library/' }] };
  const denied = await api(srv(), 'PUT', '/projects/plain/proxy-cache', body, { as: DEVELOPER });
  assert.equal(denied.status, 403, describeHttp('PUT proxy-cache as a plain user', denied));
  const anonymous = await request(`${srv().url}/api/v1/projects/${HUB_PROJECT}/proxy-cache`);
  assert.equal(anonymous.status, 401, describeHttp('GET proxy-cache anonymously', anonymous));
  const readByUser = await api(srv(), 'GET', `/projects/${HUB_PROJECT}/proxy-cache`, undefined, { as: DEVELOPER });
  assert.equal(readByUser.status, 403, describeHttp('GET proxy-cache as a plain user', readByUser));

  const config = await api(srv(), 'GET', `/projects/${HUB_PROJECT}/proxy-cache`, undefined, { expect: 200 });
  assert.deepEqual((config.json as typeof body).upstreams.map((u) => [u.registry, u.pathPrefix]), [['hub', 'library/']]);
  const unknown = await api(srv(), 'PUT', '/projects/plain/proxy-cache', { upstreams: [{ registry: 'no-such-endpoint', pathPrefix: '' }] });
  assert.ok(unknown.status >= 400 && unknown.status < 500, describeHttp('PUT proxy-cache naming an unknown endpoint', unknown));
  await api(srv(), 'PUT', '/projects/plain/proxy-cache', body, { expect: 200 });
  await api(srv(), 'GET', '/projects/plain/proxy-cache', undefined, { expect: 200 });
  const deniedDelete = await api(srv(), 'DELETE', '/projects/plain/proxy-cache', undefined, { as: DEVELOPER });
  assert.equal(deniedDelete.status, 403, describeHttp('DELETE proxy-cache as a plain user', deniedDelete));
  await api(srv(), 'DELETE', '/projects/plain/proxy-cache', undefined, { expect: 204 });
  await api(srv(), 'GET', '/projects/plain/proxy-cache', undefined, { expect: 404 });
});

registryTest('skopeo pulls through from docker-registry: same digests; by tag only a HEAD goes upstream, by digest nothing', srv, async () => {
  const { image } = single;
  assert.equal(await skopeoPull(`${HUB_PROJECT}/hello:v1`, join(work!, 'pull-1')), image.manifest.digest);
  for (const blob of [image.config, ...image.layers]) {
    assert.equal(upstreamBlobGets('library/hello', blob.digest), 1, `blob ${blob.digest} went upstream other than once`);
  }
  const raw = await manifest(`${HUB_PROJECT}/hello`, 'v1');
  assert.equal(raw.status, 200, describeHttp('GET cached manifest', raw));
  assert.equal(sha256(raw.text), image.manifest.digest);
  assert.equal(raw.headers.get('docker-content-digest'), image.manifest.digest);
  assert.equal(raw.headers.get('warning'), null, 'a fresh answer carries no Warning');

  // Again by tag: the upstream is asked for the current digest (HEAD), no blob moves again.
  hubProxy().resetCounts();
  assert.equal(await skopeoPull(`${HUB_PROJECT}/hello:v1`, join(work!, 'pull-2')), image.manifest.digest);
  assert.ok(hubProxy().count('HEAD', '/v2/library/hello/manifests/v1') >= 1, `no HEAD upstream: ${JSON.stringify(hubProxy().requests)}`);
  assert.equal(hubProxy().countMatching('GET', /\/blobs\//), 0, `blobs fetched again: ${JSON.stringify(hubProxy().requests)}`);

  // By digest: the cache answers alone.
  hubProxy().resetCounts();
  assert.equal(await skopeoPull(`${HUB_PROJECT}/hello@${image.manifest.digest}`, join(work!, 'pull-3')), image.manifest.digest);
  assert.deepEqual(hubProxy().requests, [], 'a pull by digest of cached content reached the upstream');
});

registryTest('upstreams are tried in order: the first one down, the second serves', srv, async () => {
  assert.equal(await skopeoDigest(`${CHAIN_PROJECT}/hello:v1`), single.image.manifest.digest);
});

registryTest('podman pulls through from docker-registry with htpasswd (endpoint credentials)', srv, async () => {
  const ref = `${srv().host}/${AUTH_PROJECT}/app:v1`;
  assertOk(await sandbox().podman(['pull', '--tls-verify=false', ref]));
  const inspected = JSON.parse(assertOk(await sandbox().podman(['image', 'inspect', ref])).stdout) as { Digest: string }[];
  assert.equal(inspected[0]?.Digest, single.image.manifest.digest);
});

registryTest('containerd pulls anonymously through from a Wharf with token auth; one token, not a login per pull', srv, async () => {
  const peerTokens = (): number => ready(peerProxy, 'peer proxy').count('GET', '/service/token');
  const ref = `${srv().host}/${PEER_PROJECT}/app:v1`;
  assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', ref]));
  assert.equal(await ctrDigest(ref), single.image.manifest.digest);
  const tokensAfterFirst = peerTokens();
  assert.ok(tokensAfterFirst >= 1, 'Wharf never asked the peer for a token');
  for (let i = 0; i < 3; i++) {
    const again = await manifest(`${PEER_PROJECT}/app`, 'v1');
    assert.equal(again.headers.get('docker-content-digest'), single.image.manifest.digest, describeHttp('GET by tag', again));
  }
  assert.equal(peerTokens(), tokensAfterFirst, 'a token request per pull: the upstream token is not cached');
});

registryTest('a multi-arch index and a signature-like referrer are cached with their digests', srv, async () => {
  const ref = `${srv().host}/${HUB_PROJECT}/multi:v1`;
  assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', '--all-platforms', ref]));
  assert.equal(await ctrDigest(ref), multi.index.digest);
  const content = assertOk(await ctrd().ctr(['content', 'ls', '-q'])).stdout;
  for (const child of multi.children) {
    assert.ok(content.includes(child.manifest.digest), `child ${child.manifest.digest} not fetched`);
    const cached = await manifest(`${HUB_PROJECT}/multi`, child.manifest.digest);
    assert.equal(sha256(cached.text), child.manifest.digest, describeHttp('GET child by digest', cached));
  }
  const index = await manifest(`${HUB_PROJECT}/multi`, 'v1');
  assert.equal(sha256(index.text), multi.index.digest);
  assert.equal(index.headers.get('content-type'), MT.index);

  // The referrer, by digest through the cache, then listed by the cache's referrers API.
  const artifact = await manifest(`${PEER_PROJECT}/app`, sbom.digest);
  assert.equal(artifact.status, 200, describeHttp('GET referrer by digest', artifact));
  assert.equal(sha256(artifact.text), sbom.digest);
  const layer = (JSON.parse(artifact.text) as { layers: Descriptor[] }).layers[0]!;
  const blob = await registryRequest(srv(), `/v2/${PEER_PROJECT}/app/blobs/${layer.digest}`);
  assert.equal(sha256(blob.text), layer.digest, describeHttp('GET referrer blob', blob));
  const referrers = await registryRequest(srv(), `/v2/${PEER_PROJECT}/app/referrers/${single.image.manifest.digest}`);
  assert.equal(referrers.status, 200, describeHttp('GET referrers', referrers));
  const listed = (JSON.parse(referrers.text) as { manifests: Descriptor[] }).manifests;
  assert.deepEqual(listed.map((m) => [m.digest, m.artifactType]), [[sbom.digest, sbom.artifactType]]);
});

registryTest('a tag moved upstream: the next pull gets the new digest', srv, async () => {
  assert.equal(await skopeoDigest(`${HUB_PROJECT}/moving:v1`), single.image.manifest.digest);
  await sandbox().skopeoOk(['copy', '--dest-tls-verify=false', other.layout.ref('v2'), `docker://${ready(hubRegistry, 'hub').host}/library/moving:v1`]);
  assert.equal(await skopeoDigest(`${HUB_PROJECT}/moving:v1`), other.image.manifest.digest);
  const pulled = await skopeoPull(`${HUB_PROJECT}/moving:v1`, join(work!, 'moved'));
  assert.equal(pulled, other.image.manifest.digest);
});

registryTest('push to a proxy project is refused with DENIED', srv, async () => {
  const pushed = await sandbox().skopeo(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${srv().host}/${HUB_PROJECT}/pushed:v1`]);
  assert.notEqual(pushed.code, 0, describeRun(pushed));
  assert.match(pushed.stderr, /denied/i, describeRun(pushed));
  const upload = await registryRequest(srv(), `/v2/${HUB_PROJECT}/pushed/blobs/uploads/`, { method: 'POST' });
  assert.equal(upload.status, 403, describeHttp('POST upload in a proxy project', upload));
  assert.equal(ociError(upload).code, 'DENIED');
  const put = await registryRequest(srv(), `/v2/${HUB_PROJECT}/hello/manifests/v2`, {
    method: 'PUT', headers: { 'content-type': MT.manifest }, body: (await manifest(`${HUB_PROJECT}/hello`, 'v1')).text,
  });
  assert.equal(put.status, 403, describeHttp('PUT manifest in a proxy project', put));
  assert.equal(ociError(put).code, 'DENIED');
});

registryTest('an unknown tag upstream: MANIFEST_UNKNOWN naming the upstream', srv, async () => {
  const missing = await manifest(`${HUB_PROJECT}/hello`, 'no-such-tag');
  assert.equal(missing.status, 404, describeHttp('GET unknown tag', missing));
  const err = ociError(missing);
  assert.equal(err.code, 'MANIFEST_UNKNOWN');
  assert.match(err.message, /hub/, describeHttp('the message names the upstream', missing));
});

registryTest('upstream answering 429, then 503: the cached tag is served stale with a Warning; an uncached one fails in OCI terms', srv, async () => {
  try {
    await hubProxy().setMode({ kind: 'status', status: 429, retryAfterSeconds: 30 });
    const stale = await manifest(`${HUB_PROJECT}/hello`, 'v1');
    assert.equal(stale.status, 200, describeHttp('GET cached tag while the upstream answers 429', stale));
    assert.equal(sha256(stale.text), single.image.manifest.digest);
    assert.match(stale.headers.get('warning') ?? '', /^110 - "stale: hub answered .*429/, describeHttp('Warning header', stale));
    assert.equal(await skopeoPull(`${HUB_PROJECT}/hello:v1`, join(work!, 'stale-429')), single.image.manifest.digest);
    const limited = await manifest(`${HUB_PROJECT}/hello`, 'never-pulled');
    assert.equal(limited.status, 429, describeHttp('GET uncached tag while the upstream answers 429', limited));
    const err = ociError(limited);
    assert.equal(err.code, 'TOOMANYREQUESTS');
    assert.match(err.message, /hub/, describeHttp('the message names the upstream', limited));

    await hubProxy().setMode({ kind: 'status', status: 503 });
    const stale503 = await manifest(`${HUB_PROJECT}/hello`, 'v1');
    assert.equal(stale503.status, 200, describeHttp('GET cached tag while the upstream answers 503', stale503));
    assert.match(stale503.headers.get('warning') ?? '', /^110 - "stale: hub answered .*503/, describeHttp('Warning header', stale503));
    const unavailable = await manifest(`${HUB_PROJECT}/hello`, 'never-pulled');
    assert.ok([502, 503].includes(unavailable.status), describeHttp('GET uncached tag while the upstream answers 503', unavailable));
    assert.match(ociError(unavailable).message, /hub/, describeHttp('the message names the upstream', unavailable));
  } finally {
    await hubProxy().setMode({ kind: 'forward' });
  }
});

registryTest('upstreams down: cached tags and digests still pull (Warning over HTTP), an uncached tag fails clearly', srv, async () => {
  try {
    await hubProxy().setMode({ kind: 'refuse' });
    const stale = await manifest(`${HUB_PROJECT}/hello`, 'v1');
    assert.equal(stale.status, 200, describeHttp('GET cached tag while the upstream is down', stale));
    assert.equal(stale.headers.get('docker-content-digest'), single.image.manifest.digest);
    assert.match(stale.headers.get('warning') ?? '', /^110 - "stale: hub answered .+"/, describeHttp('Warning header', stale));
    assert.equal(await skopeoPull(`${HUB_PROJECT}/hello:v1`, join(work!, 'down-tag')), single.image.manifest.digest);
    assert.equal(await skopeoPull(`${HUB_PROJECT}/hello@${single.image.manifest.digest}`, join(work!, 'down-digest')), single.image.manifest.digest);
    // The index containerd pulled earlier, into a namespace of its own (an empty content store).
    const ref = `${srv().host}/${HUB_PROJECT}/multi:v1`;
    const offline = { env: { CONTAINERD_NAMESPACE: 'offline' } };
    assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', '--all-platforms', ref], offline));
    assert.equal(await ctrDigest(ref, 'offline'), multi.index.digest);

    // The Wharf upstream down too (its registry and its token service): containerd still pulls.
    await ready(peerProxy, 'peer proxy').setMode({ kind: 'refuse' });
    const peerRef = `${srv().host}/${PEER_PROJECT}/app:v1`;
    assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', peerRef], offline));
    assert.equal(await ctrDigest(peerRef, 'offline'), single.image.manifest.digest);

    const missing = await manifest(`${HUB_PROJECT}/hello`, 'never-pulled');
    assert.ok([502, 503].includes(missing.status), describeHttp('GET uncached tag while the upstream is down', missing));
    assert.match(ociError(missing).message, /hub/, describeHttp('the message names the upstream', missing));
    const pulled = await sandbox().skopeo(['copy', '--src-tls-verify=false', `docker://${srv().host}/${HUB_PROJECT}/hello:never-pulled`, `oci:${join(work!, 'down-missing')}:x`]);
    // skopeo (containers/image) prints only the status of a 5xx, not the body's message.
    assert.notEqual(pulled.code, 0, describeRun(pulled));
    assert.match(pulled.stderr, new RegExp(`reading manifest never-pulled .*${missing.status}`), describeRun(pulled));
  } finally {
    await hubProxy().setMode({ kind: 'forward' });
    await peerProxy?.setMode({ kind: 'forward' });
  }
});

registryTest('upstream hanging: after the upstream timeout the cached tag is served stale, an uncached one fails with 503', srv, async () => {
  try {
    await hubProxy().setMode({ kind: 'hang' });
    const started = Date.now();
    const stale = await manifest(`${HUB_PROJECT}/hello`, 'v1');
    const waited = Date.now() - started;
    assert.equal(stale.status, 200, describeHttp('GET cached tag while the upstream hangs', stale));
    assert.equal(stale.headers.get('docker-content-digest'), single.image.manifest.digest);
    assert.match(stale.headers.get('warning') ?? '', /^110 - "stale: hub answered .*timeout/, describeHttp('Warning header', stale));
    assert.ok(waited >= UPSTREAM_TIMEOUT_SECONDS * 1000 - 100 && waited < UPSTREAM_TIMEOUT_SECONDS * 1000 + 5000, `served after ${waited} ms`);
    const missing = await manifest(`${HUB_PROJECT}/hello`, 'never-pulled');
    assert.equal(missing.status, 503, describeHttp('GET uncached tag while the upstream hangs', missing));
    assert.match(ociError(missing).message, /hub.*timeout/, describeHttp('the message names the upstream and the timeout', missing));
  } finally {
    await hubProxy().setMode({ kind: 'forward' });
  }
});

/** Streams `size` bytes of `source` into docker-registry as one blob (POST, then PUT ?digest=). */
async function pushPatternBlob(registry: RegistryHandle, repo: string, source: PatternSource, size: number): Promise<Descriptor> {
  const digest = source.digest(size);
  const start = await request(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202, describeHttp('POST upload', start));
  const url = uploadUrl(registry.url, start.headers.get('location'));
  url.searchParams.set('digest', digest);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': size } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    pipeline(source.stream(0, size), req).catch(reject);
  });
  assert.equal(status, 201, `PUT ${repo} blob of ${size} bytes`);
  return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size };
}

/** One client's pull: manifest by tag, then every blob streamed and hashed. */
async function pullAndVerify(repo: string, tag: string): Promise<string> {
  const m = await manifest(repo, tag);
  assert.equal(m.status, 200, describeHttp(`GET ${repo}:${tag}`, m));
  const body = JSON.parse(m.text) as { config: Descriptor; layers: Descriptor[] };
  for (const blob of [body.config, ...body.layers]) {
    const res = await fetch(`${srv().url}/v2/${repo}/blobs/${blob.digest}`, asAdmin(srv()));
    assert.equal(res.status, 200, `GET blob ${blob.digest}: ${res.status}`);
    const got = await hashWebStream(res.body!);
    assert.deepEqual(got, { digest: blob.digest, size: blob.size });
  }
  return sha256(m.text);
}

registryTest('10 clients pull the same uncached 256 MiB image at once: each blob comes from upstream once, every client gets the right bytes', srv, async () => {
  const hubDirect = ready(hubRegistry, 'hub');
  const layers = [
    await pushPatternBlob(hubDirect, 'library/big', new PatternSource(), BIG_LAYER_BYTES),
    await pushPatternBlob(hubDirect, 'library/big', new PatternSource(), BIG_LAYER_BYTES),
  ];
  const configJson = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } });
  const cfgSource = { digest: sha256(configJson), size: Buffer.byteLength(configJson) };
  const cfgStart = await request(`${hubDirect.url}/v2/library/big/blobs/uploads/`, { method: 'POST' });
  const cfgUrl = uploadUrl(hubDirect.url, cfgStart.headers.get('location'));
  cfgUrl.searchParams.set('digest', cfgSource.digest);
  assert.equal((await request(cfgUrl.href, { method: 'PUT', body: configJson })).status, 201);
  const manifestBody = JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, ...cfgSource }, layers });
  const put = await request(`${hubDirect.url}/v2/library/big/manifests/v1`, { method: 'PUT', headers: { 'content-type': MT.manifest }, body: manifestBody });
  assert.equal(put.status, 201, describeHttp('PUT big manifest upstream', put));

  hubProxy().resetCounts();
  const bytesBefore = metric(await scrapeMetrics(), 'wharf_proxy_cache_upstream_bytes_total', { upstream: 'hub' });
  const digests = await Promise.all(Array.from({ length: 10 }, () => pullAndVerify(`${HUB_PROJECT}/big`, 'v1')));
  assert.deepEqual(new Set(digests), new Set([sha256(manifestBody)]));
  for (const blob of [cfgSource, ...layers]) {
    assert.equal(upstreamBlobGets('library/big', blob.digest), 1, `blob ${blob.digest}: ${JSON.stringify(hubProxy().requests)}`);
  }
  // The upstream's bytes were read once: a second download would show here too.
  const moved = metric(await scrapeMetrics(), 'wharf_proxy_cache_upstream_bytes_total', { upstream: 'hub' }) - bytesBefore;
  assert.ok(moved >= 2 * BIG_LAYER_BYTES && moved < 3 * BIG_LAYER_BYTES, `upstream bytes counted: ${moved}`);
}, { timeout: 240_000 });

registryTest('the metrics count hits, misses, stale serves and errors by upstream', srv, async () => {
  const now = await scrapeMetrics();
  for (const result of ['hit', 'miss', 'stale', 'error']) {
    const labels = { upstream: 'hub', result };
    const grew = metric(now, 'wharf_proxy_cache_requests_total', labels) - metric(metricsAtStart, 'wharf_proxy_cache_requests_total', labels);
    assert.ok(grew > 0, `wharf_proxy_cache_requests_total{upstream="hub",result="${result}"} did not move`);
  }
  for (const upstream of ['private', 'peer']) {
    assert.ok(metric(now, 'wharf_proxy_cache_requests_total', { upstream, result: 'miss' }) > 0, `no miss counted for ${upstream}`);
    assert.ok(metric(now, 'wharf_proxy_cache_upstream_bytes_total', { upstream }) > 0, `no upstream bytes counted for ${upstream}`);
  }
});

registryTest('no upstream password, Basic credential or token reaches the log', srv, async () => {
  // Everything above ran against this server: logins to htpasswd and token upstreams, failures,
  // stale serves. Its whole log, not a tail.
  const log = await readFile(srv().logFile, 'utf8');
  assert.ok(log.includes('proxy-cache'), 'the log holds the proxy-cache lines this looks through');
  const peerAdmin = ready(peer, 'peer').admin!;
  for (const [what, secret] of [
    ['the htpasswd upstream password', MIRROR_USER.password],
    ['the token upstream password', peerAdmin.password],
    ['the htpasswd Basic credential', Buffer.from(`${MIRROR_USER.username}:${MIRROR_USER.password}`).toString('base64')],
    ['the token upstream Basic credential', Buffer.from(`${peerAdmin.username}:${peerAdmin.password}`).toString('base64')],
  ] as const) {
    assert.ok(!log.includes(secret), `${what} is in the log`);
  }
  // A bearer token from the peer (a JWT) in any form.
  assert.doesNotMatch(log, /eyJ[\w-]{10,}\.[\w-]{10,}\./, 'a token is in the log');
});
