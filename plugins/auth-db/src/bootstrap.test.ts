import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createTestDatabase, forEachDatabase, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD_FILE } from './bootstrap.js';
import { DEFAULT_PASSWORD_POLICY } from './config.js';
import { passwordProblems } from './password-policy.js';
import { bootRegistry, captureLogs, getV2, tempDir, withAdminPassword } from './test-support.js';
import { authDbUsersRef } from './user-directory.js';

/** The first administrator: from WHARF_ADMIN_PASSWORD, or generated into a 0600 file, exactly once. */

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function sqlite(): Promise<TestDatabase> {
  const db = await createTestDatabase('sqlite');
  cleanups.push(() => db.drop());
  return db;
}

async function dataDir(): Promise<string> {
  const tmp = await tempDir();
  cleanups.push(tmp.cleanup);
  return tmp.dir;
}

async function admins(server: TestRegistry): Promise<string[]> {
  const page = await server.get(authDbUsersRef).list({ pageSize: 100 });
  return page.items.filter((u) => u.admin).map((u) => u.username);
}

describe('bootstrap administrator', () => {
  it('uses WHARF_ADMIN_PASSWORD and writes no file', async () => {
    const [db, dir, logs] = [await sqlite(), await dataDir(), captureLogs()];
    const server = await withAdminPassword('Env-Admin-Pass-1', () => bootRegistry({ db, dataDir: dir, logs }));
    try {
      assert.deepEqual(await admins(server), ['admin']);
      assert.deepEqual(await getV2(server.url, 'admin', 'Env-Admin-Pass-1'), { status: 200, code: undefined });
      assert.equal((await getV2(server.url, 'admin', 'Env-Admin-Pass-2')).status, 401);
      await assert.rejects(stat(path.join(dir, ADMIN_PASSWORD_FILE)), { code: 'ENOENT' });
    } finally {
      await server.close();
    }
    assert.match(logs.text(), /created the administrator \\"admin\\" with the password from WHARF_ADMIN_PASSWORD/);
    assert.ok(!logs.text().includes('Env-Admin-Pass-1'), 'the log holds the password');
  });

  it('refuses to boot with a WHARF_ADMIN_PASSWORD that fails the policy, naming the rules', async () => {
    const [db, dir, logs] = [await sqlite(), await dataDir(), captureLogs()];
    await withAdminPassword('weakpass', async () => {
      await assert.rejects(bootRegistry({ db, dataDir: dir, logs }), (err: unknown) => {
        const message = (err as Error).message;
        assert.match(message, /plugin "db"/);
        assert.match(message, /WHARF_ADMIN_PASSWORD does not meet the password policy \(must contain an upper case letter; must contain a digit\)/);
        assert.ok(!message.includes('weakpass'));
        return true;
      });
    });
    assert.ok(!logs.text().includes('weakpass'), 'the log holds the password');
    // Nothing was created: a later boot still bootstraps.
    const server = await withAdminPassword('Strong-Pass-1', () => bootRegistry({ db, dataDir: dir }));
    try {
      assert.deepEqual(await admins(server), ['admin']);
      assert.equal((await getV2(server.url, 'admin', 'Strong-Pass-1')).status, 200);
    } finally {
      await server.close();
    }
  });

  it('reads the password from the file WHARF_ADMIN_PASSWORD_FILE names (a mounted secret), newline dropped', async () => {
    const [db, dir, logs] = [await sqlite(), await dataDir(), captureLogs()];
    const secretFile = path.join(await dataDir(), 'admin-secret');
    await writeFile(secretFile, 'File-Admin-Pass-3\n', { mode: 0o600 });
    const before = process.env.WHARF_ADMIN_PASSWORD_FILE;
    process.env.WHARF_ADMIN_PASSWORD_FILE = secretFile;
    try {
      const server = await withAdminPassword(undefined, () => bootRegistry({ db, dataDir: dir, logs }));
      try {
        assert.deepEqual(await admins(server), ['admin']);
        assert.equal((await getV2(server.url, 'admin', 'File-Admin-Pass-3')).status, 200);
        await assert.rejects(stat(path.join(dir, ADMIN_PASSWORD_FILE)), { code: 'ENOENT' });
      } finally {
        await server.close();
      }
      // Both forms at once is a mistake, refused at register.
      await withAdminPassword('Env-Admin-Pass-1', async () => {
        await assert.rejects(bootRegistry({ db: await sqlite(), dataDir: await dataDir() }), /set either WHARF_ADMIN_PASSWORD or WHARF_ADMIN_PASSWORD_FILE, not both/);
      });
    } finally {
      if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD_FILE;
      else process.env.WHARF_ADMIN_PASSWORD_FILE = before;
    }
    assert.ok(!logs.text().includes('File-Admin-Pass-3'), 'the log holds the password');
  });

  it('generates a password into <dataDir>/admin-password (0600) once, and never rewrites it', async () => {
    const [db, dir, logs] = [await sqlite(), await dataDir(), captureLogs()];
    const file = path.join(dir, ADMIN_PASSWORD_FILE);
    const first = await withAdminPassword(undefined, () => bootRegistry({ db, dataDir: dir, logs }));
    let password: string;
    try {
      const info = await stat(file);
      assert.equal(info.mode & 0o777, 0o600);
      const text = await readFile(file, 'utf8');
      assert.match(text, /^[A-Za-z0-9]{24}\n$/);
      password = text.trim();
      assert.deepEqual(passwordProblems(DEFAULT_PASSWORD_POLICY, password), []);
      assert.equal((await getV2(first.url, 'admin', password)).status, 200);
      assert.deepEqual(await admins(first), ['admin']);
      // No temp files left next to it.
      assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.includes(ADMIN_PASSWORD_FILE))), [ADMIN_PASSWORD_FILE]);
    } finally {
      await first.close();
    }
    const log = logs.text();
    assert.ok(!log.includes(password), 'the log holds the generated password');
    const line = log.split('\n').find((l) => l.includes('generated password'));
    assert.ok(line, 'a log line announces the file');
    assert.equal((JSON.parse(line) as { file: string }).file, file);
    assert.equal((JSON.parse(line) as { level: number }).level, 40);

    // Second boot, even with WHARF_ADMIN_PASSWORD set: the admin exists, the file is untouched.
    const before = await stat(file);
    const logs2 = captureLogs();
    const second = await withAdminPassword('Ignored-Pass-1', () => bootRegistry({ db, dataDir: dir, logs: logs2 }));
    try {
      const now = await stat(file);
      assert.equal(await readFile(file, 'utf8'), `${password}\n`);
      assert.deepEqual([now.ino, now.mtimeMs, now.mode], [before.ino, before.mtimeMs, before.mode]);
      assert.deepEqual(await admins(second), ['admin']);
      assert.equal((await getV2(second.url, 'admin', password)).status, 200);
      assert.equal((await getV2(second.url, 'admin', 'Ignored-Pass-1')).status, 401);
    } finally {
      await second.close();
    }
    assert.match(logs2.text(), /WHARF_ADMIN_PASSWORD is ignored: an administrator exists/);
  });

  it('creates the configured user name, with the configured policy', async () => {
    const [db, dir] = [await sqlite(), await dataDir()];
    const section = { bootstrapAdmin: { username: 'root' }, passwordPolicy: { minLength: 30, maxLength: 40, requireDigit: false } };
    const server = await withAdminPassword(undefined, () => bootRegistry({ db, dataDir: dir, section }));
    try {
      assert.deepEqual(await admins(server), ['root']);
      const password = (await readFile(path.join(dir, ADMIN_PASSWORD_FILE), 'utf8')).trim();
      assert.equal(password.length, 30);
      assert.equal((await getV2(server.url, 'root', password)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('concurrent bootstrap', () => {
  forEachDatabase((_name, create) => {
    it('two nodes booting at once on one database create one administrator and one file', async () => {
      const db = await create();
      const dirs = [await dataDir(), await dataDir()];
      const logs = [captureLogs(), captureLogs()];
      const results = await withAdminPassword(undefined, () =>
        Promise.allSettled(dirs.map((dir, i) => bootRegistry({ db, dataDir: dir, logs: logs[i] }))),
      );
      const servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      try {
        assert.deepEqual(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')), ['ok', 'ok']);
        const [a, b] = servers as [TestRegistry, TestRegistry];
        assert.deepEqual(await admins(a), ['admin']);
        assert.equal((await a.get(authDbUsersRef).list()).total, 1);
        const files = await Promise.all(dirs.map((dir) => readFile(path.join(dir, ADMIN_PASSWORD_FILE), 'utf8').catch(() => undefined)));
        const written = files.filter((f): f is string => f !== undefined);
        assert.equal(written.length, 1, 'exactly one node wrote the password file');
        const password = (written[0] as string).trim();
        // Whichever node wrote it, both nodes accept the password.
        assert.equal((await getV2(a.url, 'admin', password)).status, 200);
        assert.equal((await getV2(b.url, 'admin', password)).status, 200);
        for (const log of logs) assert.ok(!log.text().includes(password), 'a log holds the generated password');
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    });
  });
});
