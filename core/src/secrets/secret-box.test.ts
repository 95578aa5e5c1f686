import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  SECRET_KEY_FILE,
  SecretBoxError,
  createSecretBox,
  generateSecretKey,
  loadOrCreateKeyFile,
  openSecretBox,
  parseSecretKey,
} from './secret-box.js';

const SECRET = 'hunter2-päss';

function assertSecretBoxError(code: SecretBoxError['code'], ...mustNotContain: string[]): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof SecretBoxError, String(err));
    assert.equal(err.code, code);
    for (const text of mustNotContain) assert.ok(!err.message.includes(text), `message leaks ${text}: ${err.message}`);
    return true;
  };
}

// The first character always carries six bits of data (the last may carry padding bits only).
function flipFirstChar(base64: string): string {
  return (base64[0] === 'A' ? 'B' : 'A') + base64.slice(1);
}

describe('secret box', () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);

  it('round-trips, with a fresh IV every time', () => {
    for (const plain of [SECRET, '', 'x'.repeat(10_000)]) {
      const sealed = box.encrypt(plain);
      assert.match(sealed, /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/);
      assert.equal(box.decrypt(sealed), plain);
    }
    assert.notEqual(box.encrypt(SECRET), box.encrypt(SECRET));
  });

  it('detects tampering with any field', () => {
    const sealed = box.encrypt(SECRET);
    for (const field of [1, 2, 3]) {
      const parts = sealed.split(':');
      parts[field] = flipFirstChar(parts[field] ?? '');
      assert.throws(() => box.decrypt(parts.join(':')), assertSecretBoxError('DECRYPT_FAILED', SECRET, sealed));
    }
  });

  it('refuses a wrong key or a wrong context without leaking anything', () => {
    const sealed = box.encrypt(SECRET, 'endpoint:1');
    assert.equal(box.decrypt(sealed, 'endpoint:1'), SECRET);
    const other = createSecretBox(randomBytes(32));
    assert.throws(() => other.decrypt(sealed, 'endpoint:1'), assertSecretBoxError('DECRYPT_FAILED', SECRET, sealed, key.toString('base64')));
    assert.throws(() => box.decrypt(sealed, 'endpoint:2'), assertSecretBoxError('DECRYPT_FAILED', SECRET));
    assert.throws(() => box.decrypt(sealed), assertSecretBoxError('DECRYPT_FAILED', SECRET));
  });

  it('reports malformed values and unknown versions without echoing them', () => {
    const sealed = box.encrypt(SECRET);
    const [, iv, tag, data] = sealed.split(':');
    for (const bad of ['', SECRET, `v1:${iv}:${tag}`, `v1:${iv}:${tag}:${data}:x`, `v1:${iv}:${tag}:!!`, `v1:AAAA:${tag}:${data}`]) {
      assert.throws(() => box.decrypt(bad), assertSecretBoxError('MALFORMED', SECRET, data ?? ''));
    }
    // The tag's last character holds 2 data bits and 4 padding bits: Node would decode B like A.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const t = tag ?? '';
    const sloppyTag = t.slice(0, -3) + alphabet[alphabet.indexOf(t.slice(-3, -2)) + 1] + '==';
    assert.ok(Buffer.from(sloppyTag, 'base64').equals(Buffer.from(t, 'base64')));
    assert.throws(() => box.decrypt(`v1:${iv}:${sloppyTag}:${data}`), assertSecretBoxError('MALFORMED'));
    assert.throws(() => box.decrypt(`v2:${iv}:${tag}:${data}`), assertSecretBoxError('UNSUPPORTED_VERSION', data ?? ''));
  });

  it('accepts only a base64 32-byte configured key and never echoes it', () => {
    const good = generateSecretKey();
    assert.equal(parseSecretKey(good).length, 32);
    const short = randomBytes(16).toString('base64');
    assert.throws(() => parseSecretKey(short), assertSecretBoxError('KEY_INVALID', short));
    assert.throws(() => parseSecretKey('not base64 at all!'), assertSecretBoxError('KEY_INVALID', 'not base64 at all'));
  });
});

describe('key file', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-secret-box-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created with mode 0600 on first use and reused afterwards', async () => {
    const dataDir = join(dir, 'reuse');
    const first = await openSecretBox({ dataDir });
    const file = join(dataDir, SECRET_KEY_FILE);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const content = await readFile(file, 'utf8');
    const second = await openSecretBox({ dataDir });
    assert.equal(second.decrypt(first.encrypt(SECRET)), SECRET);
    assert.equal(await readFile(file, 'utf8'), content);
    assert.deepEqual(await readdir(dataDir), [SECRET_KEY_FILE], 'temporary files left behind');
  });

  it('is not touched when a key is configured', async () => {
    const dataDir = join(dir, 'configured');
    const key = generateSecretKey();
    const box = await openSecretBox({ key, dataDir });
    assert.equal(createSecretBox(parseSecretKey(key)).decrypt(box.encrypt(SECRET)), SECRET);
    await assert.rejects(stat(join(dataDir, SECRET_KEY_FILE)), { code: 'ENOENT' });
  });

  it('is refused when others can read it, or when it holds no key', async () => {
    const file = join(dir, 'loose.key');
    const key = generateSecretKey();
    await writeFile(file, key, { mode: 0o600 });
    await chmod(file, 0o644);
    await assert.rejects(loadOrCreateKeyFile(file), assertSecretBoxError('KEY_FILE', key));
    await chmod(file, 0o600);
    await writeFile(file, 'garbage');
    await assert.rejects(loadOrCreateKeyFile(file), assertSecretBoxError('KEY_INVALID', 'garbage'));
  });

  it('ends with one key when first uses race in one process', async () => {
    const file = join(dir, 'race-in-process.key');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyFile(file)));
    for (const k of keys) assert.ok(k.equals(keys[0] ?? Buffer.alloc(0)));
  });

  it('ends with one key when two processes start together', async () => {
    const dataDir = join(dir, 'race-processes');
    const moduleUrl = new URL('./secret-box.js', import.meta.url).href;
    // Each child waits for the same instant so both reach the create step together.
    const startAt = Date.now() + 300;
    const script = `
      import { openSecretBox } from ${JSON.stringify(moduleUrl)};
      await new Promise((r) => setTimeout(r, ${startAt} - Date.now()));
      const box = await openSecretBox({ dataDir: ${JSON.stringify(dataDir)} });
      process.stdout.write(box.encrypt('from ' + process.pid));`;
    const run = promisify(execFile);
    const children = await Promise.all([0, 1].map(() => run(process.execPath, ['--input-type=module', '-e', script])));
    const box = await openSecretBox({ dataDir });
    for (const child of children) assert.match(box.decrypt(child.stdout), /^from \d+$/);
    assert.deepEqual(await readdir(dataDir), [SECRET_KEY_FILE]);
  });
});
