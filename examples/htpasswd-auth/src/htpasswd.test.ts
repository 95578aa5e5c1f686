import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { HtpasswdError, HtpasswdFile, parseHtpasswd } from './htpasswd.js';

// Written by `htpasswd -nbB alice pw` (Apache's $2y$ prefix, cost 5).
const ALICE_2Y = 'alice:$2y$05$UmIYoz/mxizybXHk3kkQkuDEIMjVN1KOkmASXhnL5jLERRrJwNPRK';
const line = (user: string, password: string): string => `${user}:${bcrypt.hashSync(password, 4)}`;

describe('parseHtpasswd', () => {
  it('reads $2y$, $2a$ and $2b$ entries and skips blank and comment lines', () => {
    const b = line('bob', 'x');
    assert.match(b, /^bob:\$2b\$/);
    const a = b.replace('bob:$2b$', 'carol:$2a$');
    const users = parseHtpasswd(`# users\n${ALICE_2Y}\n\n${b}\r\n${a}\n`, 'f');
    assert.deepEqual([...users.keys()], ['alice', 'bob', 'carol']);
  });

  for (const [what, entry, format] of [
    ['Apache MD5', 'bob:$apr1$Vj3bFx7X$7aTAl2c5pnxYQ0rA1yXm0.', /\$apr1\$/],
    ['SHA-1', 'bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', /\{SHA\}/],
    ['SHA-512 crypt', 'bob:$6$rounds=5000$abc$def', /SHA-crypt/],
    ['DES crypt', 'bob:abJnggxhB/yWI', /DES crypt/],
    ['plain text', 'bob:hunter2', /plain text/],
    ['a truncated bcrypt hash', 'bob:$2y$05$UmIYoz/mxizybXHk3kk', /malformed bcrypt/],
  ] as const) {
    it(`refuses ${what}, naming the file, line and user`, () => {
      assert.throws(
        () => parseHtpasswd(`${ALICE_2Y}\n# comment\n${entry}\n`, '/etc/htpasswd'),
        (err: unknown) => {
          assert.ok(err instanceof HtpasswdError);
          assert.match(err.message, /^\/etc\/htpasswd line 3: user "bob" has /);
          assert.match(err.message, format);
          assert.match(err.message, /only bcrypt entries are supported \(htpasswd -B\)/);
          return true;
        },
      );
    });
  }

  it('refuses a line without a colon and a user listed twice', () => {
    assert.throws(() => parseHtpasswd('alice\n', 'f'), /f line 1: expected "user:hash"/);
    assert.throws(() => parseHtpasswd(`${ALICE_2Y}\n${ALICE_2Y}\n`, 'f'), /f line 2: user "alice" appears twice/);
  });
});

describe('HtpasswdFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-htpasswd-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('checks passwords: ok, wrong password, unknown user', async () => {
    const file = path.join(dir, 'a');
    await writeFile(file, `${ALICE_2Y}\n`);
    const users = new HtpasswdFile(file);
    await users.load();
    assert.equal((await users.verify('alice', 'pw')).ok, true);
    assert.deepEqual(await users.verify('alice', 'PW'), { ok: false, reason: 'wrong-password' });
    assert.deepEqual(await users.verify('mallory', 'pw'), { ok: false, reason: 'unknown-user' });
  });

  it('fails to load a missing file, naming it', async () => {
    const missing = path.join(dir, 'missing');
    await assert.rejects(new HtpasswdFile(missing).load(), (err: Error) => err instanceof HtpasswdError && err.message === `cannot read ${missing}: ENOENT`);
  });

  it('re-reads the file when it changes, in place or replaced, and keeps the last good version when the new one is bad', async () => {
    const file = path.join(dir, 'b');
    await writeFile(file, `${line('bob', 'one')}\n`);
    const errors: string[] = [];
    const users = new HtpasswdFile(file, (err) => errors.push(err.message));
    await users.load();
    assert.equal((await users.verify('bob', 'one')).ok, true);

    // Rewritten in place (same size, new mtime).
    await writeFile(file, `${line('bob', 'two')}\n`);
    assert.deepEqual(await users.verify('bob', 'one'), { ok: false, reason: 'wrong-password' });
    assert.equal((await users.verify('bob', 'two')).ok, true);

    // Replaced by rename, as editors and `htpasswd` do: a new user appears.
    await writeFile(`${file}.new`, `${line('bob', 'two')}\n${line('carol', 'three')}\n`);
    await rename(`${file}.new`, file);
    assert.equal((await users.verify('carol', 'three')).ok, true);

    // A bad edit is reported once and the last good users stay.
    await writeFile(file, `${line('bob', 'two')}\ncarol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n`);
    assert.equal((await users.verify('carol', 'three')).ok, true);
    assert.equal((await users.verify('bob', 'two')).ok, true);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /line 2: user "carol" has SHA-1/);

    // Fixed again: carol is gone now.
    await writeFile(file, `${line('bob', 'two')}\n`);
    assert.deepEqual(await users.verify('carol', 'three'), { ok: false, reason: 'unknown-user' });
  });

  it('keeps the last good version while the file is missing', async () => {
    const file = path.join(dir, 'c');
    await writeFile(file, `${line('dave', 'pw')}\n`);
    const errors: string[] = [];
    const users = new HtpasswdFile(file, (err) => errors.push(err.message));
    await users.load();
    await rm(file);
    assert.equal((await users.verify('dave', 'pw')).ok, true);
    assert.equal((await users.verify('dave', 'pw')).ok, true);
    assert.deepEqual(errors, [`cannot read ${file}: ENOENT`]);
  });
});
