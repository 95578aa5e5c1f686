import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

/**
 * Apache htpasswd files: parsing (bcrypt entries only) and a reader that re-reads the file when
 * it changes. No Wharf API here, so it can be tested on its own.
 */

/** Thrown for a file that cannot be used; the message names the file and, where known, the line. */
export class HtpasswdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HtpasswdError';
  }
}

/** `$2y$` (Apache), `$2a$` and `$2b$` (OpenBSD) bcrypt hashes: cost, 22 salt and 31 hash characters. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;

/** What other htpasswd formats look like, for the error message. */
function formatOf(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'Apache MD5 ($apr1$, htpasswd -m)';
  if (hash.startsWith('{SHA}')) return 'SHA-1 ({SHA}, htpasswd -s)';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt ($5$/$6$, htpasswd -2/-5)';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  if (/^[./A-Za-z0-9]{13}$/.test(hash)) return 'DES crypt (htpasswd -d)';
  return 'plain text or an unknown format (htpasswd -p)';
}

/** Parses the text of an htpasswd file into user → bcrypt hash; throws on the first bad line. */
export function parseHtpasswd(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file} line ${index + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HtpasswdError(`${where}: expected "user:hash"`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) {
      throw new HtpasswdError(`${where}: user "${user}" has ${formatOf(hash)}; only bcrypt entries are supported (htpasswd -B)`);
    }
    if (users.has(user)) throw new HtpasswdError(`${where}: user "${user}" appears twice`);
    users.set(user, hash);
  });
  return users;
}

/** A short, non-reversible fingerprint of a hash, so a cached login can tell the password changed. */
export function fingerprint(hash: string): string {
  return createHash('sha256').update(hash).digest('hex').slice(0, 16);
}

export type Verdict = { readonly ok: true; readonly fingerprint: string } | { readonly ok: false; readonly reason: 'unknown-user' | 'wrong-password' };

interface Snapshot {
  readonly users: ReadonlyMap<string, string>;
  /** mtime, size and inode: any of them changing means the file was written or replaced. */
  readonly version: string;
}

/**
 * The users of one htpasswd file. {@link load} reads it (a problem is thrown); afterwards each
 * lookup compares the file's mtime, size and inode and re-reads it when they changed. A file that
 * became unreadable or invalid leaves the last good contents in place and is reported through
 * `onReloadError`, once per version of the file, so a half-written edit never locks everyone out.
 */
export class HtpasswdFile {
  private snapshot: Snapshot | undefined;
  private reloading: Promise<void> | undefined;
  private failedVersion: string | undefined;

  constructor(
    readonly file: string,
    private readonly onReloadError: (err: Error) => void = () => undefined,
  ) {}

  /** Reads the file; throws an {@link HtpasswdError} naming the file (and line) on any problem. */
  async load(): Promise<void> {
    this.snapshot = await this.read(await this.version());
  }

  /** Checks a password; re-reads the file first when it changed. */
  async verify(user: string, password: string): Promise<Verdict> {
    const hash = await this.hashOf(user);
    if (hash === undefined) return { ok: false, reason: 'unknown-user' };
    return (await bcrypt.compare(password, hash)) ? { ok: true, fingerprint: fingerprint(hash) } : { ok: false, reason: 'wrong-password' };
  }

  /** The fingerprint of a user's hash now, or `undefined` when the file no longer has the user. */
  async fingerprintOf(user: string): Promise<string | undefined> {
    const hash = await this.hashOf(user);
    return hash === undefined ? undefined : fingerprint(hash);
  }

  private async hashOf(user: string): Promise<string | undefined> {
    await this.refresh();
    return this.snapshot?.users.get(user);
  }

  private async refresh(): Promise<void> {
    // Concurrent logins share one stat (and at most one re-read).
    this.reloading ??= this.refreshOnce().finally(() => (this.reloading = undefined));
    await this.reloading;
  }

  private async refreshOnce(): Promise<void> {
    let version: string;
    try {
      version = await this.version();
    } catch (err) {
      this.report(err as Error, 'missing');
      return;
    }
    if (version === this.snapshot?.version || version === this.failedVersion) return;
    try {
      this.snapshot = await this.read(version);
      this.failedVersion = undefined;
    } catch (err) {
      this.report(err as Error, version);
    }
  }

  private report(err: Error, version: string): void {
    if (this.failedVersion === version) return;
    this.failedVersion = version;
    this.onReloadError(err);
  }

  private async version(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true });
      return `${s.mtimeNs}:${s.size}:${s.ino}`;
    } catch (err) {
      throw new HtpasswdError(`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  }

  private async read(version: string): Promise<Snapshot> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      throw new HtpasswdError(`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    return { users: parseHtpasswd(text, this.file), version };
  }
}
