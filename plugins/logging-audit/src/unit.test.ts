import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { authEvents, registryEvents } from '@wharf/sdk';
import { verifyPlugin } from '@wharf/sdk-testing';
import { entriesOf } from './entries.js';
import { auditedTypes, recordedEntries, sampled } from './recorder.js';
import { envelope } from './test-support.js';
import { VERSION } from './version.js';

/** From events to entries, pull sampling, and the config the loader accepts or refuses. */

const digest = `sha256:${'a'.repeat(64)}`;
const pulls = (record: boolean, sampleRate: number) => ({ pulls: { record, sampleRate } });

describe('entries from events', () => {
  it('a push with a tag is an artifact push and a tag creation, in the project of the repository', () => {
    const event = envelope(registryEvents.manifestPushed.name, { repository: 'lib/app', digest, tag: 'v1', mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: undefined, size: 10, subject: undefined });
    const [push, tag, ...rest] = entriesOf(event);
    assert.equal(rest.length, 0);
    assert.deepEqual([push!.operation, push!.resourceType, push!.resource, push!.project, push!.part], ['push', 'artifact', `lib/app@${digest}`, 'lib', 0]);
    assert.deepEqual([tag!.operation, tag!.resourceType, tag!.resource, tag!.part, tag!.eventId], ['create', 'tag', 'lib/app:v1', 1, event.id]);
    assert.deepEqual([push!.actor, push!.actorKind, push!.actorProvider, push!.clientAddress, push!.requestId], ['alice', 'user', 'db', '192.0.2.7', event.request!.requestId]);
    assert.equal(push!.detail.userAgent, 'test-agent');
    assert.equal(entriesOf(envelope(registryEvents.manifestPushed.name, { repository: 'app', digest, tag: undefined, mediaType: 'x', artifactType: undefined, size: 1, subject: undefined })).length, 1);
  });

  it('pulls keep their count; deletes of artifacts, tags and repositories; blob commits are not recorded', () => {
    const [pull] = entriesOf(envelope(registryEvents.artifactPulled.name, { repository: 'lib/app', digest, reference: 'v1', mediaType: 'x', count: 20 }));
    assert.deepEqual([pull!.operation, pull!.count, pull!.detail.reference], ['pull', 20, 'v1']);
    assert.equal(entriesOf(envelope(registryEvents.manifestDeleted.name, { repository: 'lib/app', digest, tag: undefined }))[0]!.resource, `lib/app@${digest}`);
    const [tag] = entriesOf(envelope(registryEvents.tagDeleted.name, { repository: 'lib/app', digest, tag: 'old' }));
    assert.deepEqual([tag!.operation, tag!.resourceType, tag!.resource], ['delete', 'tag', 'lib/app:old']);
    const [repo] = entriesOf(envelope(registryEvents.repositoryDeleted.name, { repository: 'lib/app' }));
    assert.deepEqual([repo!.operation, repo!.resourceType, repo!.resource, repo!.project], ['delete', 'repository', 'lib/app', 'lib']);
    assert.deepEqual(entriesOf(envelope(registryEvents.blobCommitted.name, { repository: 'lib/app', digest, size: 1, mounted: false })), []);
  });

  it('management changes by resource and action; a refused login has the name tried and no provider', () => {
    const [member] = entriesOf(envelope('management.member.updated', { resource: 'member', id: 'bob', project: 'lib', changes: { role: 'developer' } }));
    assert.deepEqual([member!.operation, member!.resourceType, member!.resource, member!.project, member!.detail.changes], ['update', 'member', 'bob', 'lib', { role: 'developer' }]);
    assert.equal(entriesOf(envelope('management.project.deleted', { resource: 'project', id: 'lib' }))[0]!.project, 'lib');
    assert.equal(entriesOf(envelope('management.registry.created', { resource: 'registry', id: 'hub' }))[0]!.project, null);
    const [failed] = entriesOf(envelope(authEvents.loginFailed.name, { username: 'mallory', provider: undefined, via: 'token', reason: 'invalid credentials' }, { actor: undefined }));
    assert.deepEqual([failed!.operation, failed!.result, failed!.actor, failed!.actorKind, failed!.actorProvider], ['login', 'failure', 'mallory', null, null]);
    assert.deepEqual(failed!.detail, { via: 'token', reason: 'invalid credentials', userAgent: 'test-agent' });
  });
});

describe('pull sampling', () => {
  it('decides per event id, the same on every delivery, near the rate', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const kept = ids.filter((id) => sampled(id, 0.25)).length;
    assert.ok(kept > 850 && kept < 1150, `${kept} of 4000 at 0.25`);
    assert.deepEqual(ids.map((id) => sampled(id, 0.25)), ids.map((id) => sampled(id, 0.25)));
    assert.ok(ids.every((id) => sampled(id, 1)));
  });

  it('does not subscribe to pulls when they are not recorded; marks sampled entries with the rate', () => {
    assert.ok(auditedTypes(pulls(true, 1)).includes(registryEvents.artifactPulled));
    assert.ok(!auditedTypes(pulls(false, 1)).includes(registryEvents.artifactPulled));
    const events = Array.from({ length: 50 }, () => envelope(registryEvents.artifactPulled.name, { repository: 'lib/app', digest, reference: 'v1', mediaType: 'x', count: 1 }));
    const recorded = events.flatMap((e) => recordedEntries(e, pulls(true, 0.5)));
    assert.ok(recorded.length > 5 && recorded.length < 45, `${recorded.length} of 50`);
    assert.ok(recorded.every((e) => e.detail.sampleRate === 0.5));
    const push = envelope(registryEvents.manifestDeleted.name, { repository: 'lib/app', digest, tag: undefined });
    assert.equal(recordedEntries(push, pulls(true, 0.01)).length, 1, 'only pulls are sampled');
  });
});

describe('the plugin', () => {
  it('passes the loader, and refuses bad retention keys and durations naming the key', async () => {
    const verify = (config: Record<string, unknown>) => verifyPlugin('audit', { kind: 'logging', config, cwd: fileURLToPath(new URL('..', import.meta.url)) });
    const ok = await verify({ retention: { default: '30d', pull: '7d', 'tag.delete': '36h', login: 'forever' } });
    assert.deepEqual([ok.id, ok.packageName, ok.migrations], ['audit', '@wharf/plugin-logging-audit', true]);
    for (const retention of [{ pull: '7 days' }, { pul: '7d' }, { default: '0d' }, { 'Tag.delete': '1d' }]) {
      await assert.rejects(verify({ retention }), /logging\.audit\.retention/, JSON.stringify(retention));
    }
    await assert.rejects(verify({ pulls: { sampleRate: 0 } }), /logging\.audit\.pulls\.sampleRate/);
  });

  it('carries the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(VERSION, pkg.version);
  });
});
