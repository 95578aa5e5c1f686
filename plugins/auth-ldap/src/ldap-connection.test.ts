import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '@wharf/sdk';
import { LdapAuthenticator } from './ldap-authenticator.js';
import type { LdapConfigInput } from './settings.js';
import { captureLogs } from '@wharf/sdk-testing';
import { PEOPLE_DN, SEARCH_DN, SEARCH_PASSWORD, startSlapd, type Slapd } from './test-support/slapd.js';

/**
 * Transport behaviour against real servers: StartTLS and ldaps with a CA made by openssl (and
 * failing closed without it), a server that accepts TCP and never answers, a stopped slapd.
 */

let slapd: Slapd;
const logs = captureLogs({ bindings: { plugin: 'ldap' } });

before(async () => {
  slapd = await startSlapd({ tls: true });
});
after(async () => {
  await slapd?.stop();
});

function authenticator(config: Partial<LdapConfigInput> & Pick<LdapConfigInput, 'url'>): LdapAuthenticator {
  return new LdapAuthenticator(
    { bindDN: SEARCH_DN, bindPassword: SEARCH_PASSWORD, userBase: PEOPLE_DN, timeoutMs: 3000, connectTimeoutMs: 3000, ...config },
    { logger: logs.logger },
  );
}

const certs = () => {
  assert.ok(slapd.certificates && slapd.ldapsUrl);
  return { ...slapd.certificates, ldapsUrl: slapd.ldapsUrl };
};

async function logLines(...needles: string[]): Promise<string[]> {
  return (await slapd.log()).split('\n').filter((line) => needles.every((n) => line.includes(n)));
}

/** Runs a login that must fail closed: `undefined`, one error line, and no bind reached slapd. */
async function failsClosed(auth: LdapAuthenticator): Promise<Record<string, unknown>> {
  const errors = logs.at('error').length;
  const binds = (await logLines(' BIND dn=')).length;
  assert.equal(await auth.authenticate('alice', 'alicepw'), undefined);
  const logged = logs.at('error').slice(errors);
  assert.equal(logged.length, 1);
  assert.equal(logged[0]?.msg, 'ldap login failed: directory error');
  assert.equal((await logLines(' BIND dn=')).length, binds, 'no credentials were sent');
  return logged[0] as Record<string, unknown>;
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ url: (scheme: string) => string; closedSockets: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let closed = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume(); // read and drop what the client sends, so its FIN is seen
    socket.on('close', () => {
      closed++;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    closedSockets: () => closed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('TLS', () => {
  it('logs in over StartTLS with the CA from a file, and the bind is encrypted', async () => {
    const p = (await authenticator({ url: slapd.url, startTLS: true, tls: { ca: certs().caFile } }).authenticate('alice', 'alicepw')) as Principal;
    assert.equal(p.subject, 'alice');
    assert.ok((await logLines('EXT oid=1.3.6.1.4.1.1466.20037')).length >= 1);
    const userBinds = await logLines('BIND dn="uid=alice,', 'mech=SIMPLE');
    assert.ok(userBinds.length >= 1);
    assert.ok(userBinds.every((l) => / ssf=256/.test(l)), userBinds.join('\n'));
  });

  it('logs in over StartTLS with the CA given inline', async () => {
    const p = await authenticator({ url: slapd.url, startTLS: true, tls: { ca: certs().caPem } }).authenticate('alice', 'alicepw');
    assert.equal(p?.subject, 'alice');
  });

  it('logs in over ldaps:// with the CA', async () => {
    const p = await authenticator({ url: certs().ldapsUrl, tls: { ca: certs().caFile } }).authenticate('alice', 'alicepw');
    assert.equal(p?.subject, 'alice');
  });

  it('keeps refusing wrong passwords over TLS', async () => {
    await assert.rejects(authenticator({ url: certs().ldapsUrl, tls: { ca: certs().caPem } }).authenticate('alice', 'wrong'), { code: 'UNAUTHORIZED' });
  });

  it('fails closed over StartTLS without the CA', async () => {
    const line = await failsClosed(authenticator({ url: slapd.url, startTLS: true }));
    assert.match(JSON.stringify(line.error), /certificate/);
  });

  it('fails closed over ldaps:// without the CA', async () => {
    const line = await failsClosed(authenticator({ url: certs().ldapsUrl }));
    assert.match(JSON.stringify(line.error), /certificate/);
  });

  it('connects without verification only when told to', async () => {
    const p = await authenticator({ url: certs().ldapsUrl, tls: { rejectUnauthorized: false } }).authenticate('alice', 'alicepw');
    assert.equal(p?.subject, 'alice');
  });
});

describe('unreachable and silent directories', () => {
  it('answers undefined within about timeoutMs when the server accepts TCP but never answers', async () => {
    const silent = await silentServer();
    try {
      for (const [url, startTLS] of [[silent.url('ldap'), false], [silent.url('ldap'), true], [silent.url('ldaps'), false]] as const) {
        const errors = logs.at('error').length;
        const started = Date.now();
        const result = await authenticator({ url, startTLS, timeoutMs: 400, connectTimeoutMs: 400 }).authenticate('alice', 'alicepw');
        const ms = Date.now() - started;
        assert.equal(result, undefined);
        assert.ok(ms >= 350 && ms < 1500, `${url} startTLS=${startTLS}: took ${ms} ms`);
        assert.match(JSON.stringify(logs.at('error').slice(errors)[0]?.error), /timed out|timeout/);
      }
      // Every timed-out connection was dropped, not left hanging.
      const deadline = Date.now() + 1000;
      while (silent.closedSockets() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(silent.closedSockets(), 3);
    } finally {
      await silent.close();
    }
  });

  it('answers undefined quickly when slapd is stopped', async () => {
    const down = await startSlapd();
    const auth = authenticator({ url: down.url });
    assert.equal((await auth.authenticate('alice', 'alicepw'))?.subject, 'alice');
    await down.stop();
    const errors = logs.at('error').length;
    const started = Date.now();
    assert.equal(await auth.authenticate('alice', 'alicepw'), undefined);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    assert.match(JSON.stringify(logs.at('error').slice(errors)[0]?.error), /ECONNREFUSED/);
  });

  it('never writes a password to the log', () => {
    const text = logs.lines().join('\n');
    for (const secret of ['alicepw', SEARCH_PASSWORD]) assert.ok(!text.includes(secret), `log contains "${secret}"`);
  });
});
