import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, mkdtemp, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeTestCertificates, type TestCertificates } from './tls-certs.js';

/**
 * A real OpenLDAP slapd for tests: its own temp dir, free ports, mdb + memberof overlay (the
 * slapd.conf of infra.md section 5), the test directory loaded online with ldapadd (so memberOf
 * is maintained), and the `stats` log level so every SRCH operation is in `log()`.
 */

export const BASE_DN = 'dc=example,dc=org';
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const GROUPS_DN = `ou=groups,${BASE_DN}`;
export const ROOT_DN = `cn=admin,${BASE_DN}`;
export const ROOT_PASSWORD = 'adminpw';
export const SEARCH_DN = `cn=wharf-search,${BASE_DN}`;
export const SEARCH_PASSWORD = 'search-account-pw';
/** User name -> password. `weird(name)*` checks that filter escaping reaches the wire right. */
export const PASSWORDS: Readonly<Record<string, string>> = { alice: 'alicepw', bob: 'bobpw', carol: 'carolpw', 'weird(name)*': 'weirdpw' };
export const CAROL_GROUPS = Array.from({ length: 50 }, (_, i) => `team-${String(i + 1).padStart(2, '0')}`);

export const userDn = (uid: string): string => `uid=${uid},${PEOPLE_DN}`;
export const groupDn = (cn: string): string => `cn=${cn},${GROUPS_DN}`;

export interface Slapd {
  /** `ldap://127.0.0.1:<port>` */
  readonly url: string;
  /** `ldaps://127.0.0.1:<port>` when started with `tls: true`. */
  readonly ldapsUrl: string | undefined;
  /** The CA that signed the server certificate (with `tls: true`). */
  readonly certificates: TestCertificates | undefined;
  readonly dir: string;
  /** slapd's log so far (stats level: one `SRCH` line per search). */
  log(): Promise<string>;
  /** Stops slapd (SIGTERM, then SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface SlapdOptions {
  /** Also listen on ldaps:// and enable StartTLS, with a CA made by openssl. */
  readonly tls?: boolean;
}

/** `{SSHA}` as slappasswd makes it, without spawning it. */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function slapdConf(dir: string, certs: TestCertificates | undefined): string {
  const tls = certs
    ? `TLSCACertificateFile ${certs.caFile}\nTLSCertificateFile ${certs.certFile}\nTLSCertificateKeyFile ${certs.keyFile}\n`
    : '';
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
${tls}database mdb
maxsize 104857600
suffix "${BASE_DN}"
rootdn "${ROOT_DN}"
rootpw ${ssha(ROOT_PASSWORD)}
directory ${dir}/data
index objectClass eq
index uid,cn,mail,member eq
overlay memberof
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
`;
}

function entry(dn: string, lines: readonly string[]): string {
  return [`dn: ${dn}`, ...lines, ''].join('\n');
}

function person(uid: string, cn: string): string {
  return entry(userDn(uid), ['objectClass: inetOrgPerson', `uid: ${uid}`, `cn: ${cn}`, 'sn: Example', `userPassword: ${ssha(PASSWORDS[uid] ?? '')}`]);
}

function group(cn: string, members: readonly string[]): string {
  return entry(groupDn(cn), ['objectClass: groupOfNames', `cn: ${cn}`, ...members.map((m) => `member: ${userDn(m)}`)]);
}

/** The test directory: users alice, bob, carol; groups registry-admins, devs and 50 for carol. */
export function directoryLdif(): string {
  return [
    entry(BASE_DN, ['objectClass: top', 'objectClass: dcObject', 'objectClass: organization', 'o: Example', 'dc: example']),
    entry(PEOPLE_DN, ['objectClass: organizationalUnit', 'ou: people']),
    entry(GROUPS_DN, ['objectClass: organizationalUnit', 'ou: groups']),
    entry(SEARCH_DN, ['objectClass: organizationalRole', 'objectClass: simpleSecurityObject', 'cn: wharf-search', `userPassword: ${ssha(SEARCH_PASSWORD)}`]),
    person('alice', 'Alice Example'),
    person('bob', 'Bob Example'),
    person('carol', 'Carol Example'),
    person('weird(name)*', 'Weird Example'),
    group('registry-admins', ['alice']),
    group('devs', ['alice', 'bob', 'weird(name)*']),
    ...CAROL_GROUPS.map((cn) => group(cn, ['carol'])),
  ].join('\n');
}

/** Deletes an entry as the directory's administrator would (ldapdelete reads the DN from stdin). */
export function deleteEntry(slapd: Slapd, dn: string): Promise<void> {
  return runWithInput('ldapdelete', ['-x', '-H', slapd.url, '-D', ROOT_DN, '-w', ROOT_PASSWORD], `${dn}\n`);
}

function runWithInput(command: string, args: readonly string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr}`))));
    child.stdin.on('error', () => {}); // an early exit shows in the exit code, not as EPIPE
    child.stdin.end(input);
  });
}

async function waitForPort(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited ${child.exitCode}: ${await readFile(logFile, 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`slapd did not listen on ${port} within 5 s`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts slapd and loads the test directory. Ready in well under a second. */
export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-slapd-'));
  try {
    await mkdir(path.join(dir, 'data'));
    const certificates = options.tls ? await makeTestCertificates(dir) : undefined;
    const confFile = path.join(dir, 'slapd.conf');
    await writeFile(confFile, slapdConf(dir, certificates));
    const logFile = path.join(dir, 'slapd.log');
    // A port taken between freePort() and slapd's bind makes slapd exit: try again.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const tlsPort = certificates ? await freePort() : undefined;
      const url = `ldap://127.0.0.1:${port}`;
      const ldapsUrl = tlsPort === undefined ? undefined : `ldaps://127.0.0.1:${tlsPort}`;
      const log = await open(logFile, 'w');
      // -d 256 (stats): stays in the foreground and logs each operation, SRCH included.
      const child = spawn('slapd', ['-f', confFile, '-h', [url, ldapsUrl].filter(Boolean).join(' '), '-d', '256'], {
        stdio: ['ignore', log.fd, log.fd],
      });
      await log.close();
      try {
        await waitForPort(port, child, logFile);
        if (tlsPort !== undefined) await waitForPort(tlsPort, child, logFile);
      } catch (err) {
        await stopProcess(child);
        if (attempt < 3) continue;
        throw err;
      }
      let stopped: Promise<void> | undefined;
      const stop = (): Promise<void> =>
        (stopped ??= (async () => {
          await stopProcess(child);
          await rm(dir, { recursive: true, force: true });
        })());
      try {
        await runWithInput('ldapadd', ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PASSWORD], directoryLdif());
      } catch (err) {
        await stop();
        throw err;
      }
      return { url, ldapsUrl, certificates, dir, log: () => readFile(logFile, 'utf8'), stop };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
