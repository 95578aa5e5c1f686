import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@wharf/sdk';
import type { PasswordPolicy } from './config.js';
import { generatePassword, passwordProblems } from './password-policy.js';
import { UserDirectoryError, type UserDirectory } from './user-directory.js';

/**
 * The first administrator. At ready, when the table has no administrator, the plugin creates
 * one with `WHARF_ADMIN_PASSWORD`, or with a generated password that only ever goes to
 * `<dataDir>/admin-password` (mode 0600). Nodes booting together race on the unique user name:
 * one insert wins, the others see the administrator and stop, and only the winner writes a file.
 */

export const ADMIN_PASSWORD_ENV = 'WHARF_ADMIN_PASSWORD';
/** A file holding the password instead (a mounted container secret); trailing newlines dropped. */
export const ADMIN_PASSWORD_FILE_ENV = 'WHARF_ADMIN_PASSWORD_FILE';
export const ADMIN_PASSWORD_FILE = 'admin-password';

export type BootstrapOutcome =
  /** An administrator already existed: nothing was created or written. */
  | 'exists'
  /** Created with the password from the environment. */
  | 'created-from-env'
  /** Created with a generated password, written to the file. */
  | 'created-generated'
  /** Another node created it at the same time. */
  | 'created-elsewhere'
  /** The user name is taken by a user who is not an administrator. */
  | 'name-taken';

export interface BootstrapOptions {
  readonly users: UserDirectory;
  readonly username: string;
  readonly policy: PasswordPolicy;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
}

/**
 * The policy problems of `WHARF_ADMIN_PASSWORD`, checked at register: a password the boot would
 * refuse stops it before any table or file is created.
 */
export function checkAdminPasswordEnv(policy: PasswordPolicy, env: NodeJS.ProcessEnv): void {
  const fromEnv = adminPasswordFromEnv(env);
  if (fromEnv === undefined) return;
  const problems = passwordProblems(policy, fromEnv);
  // Refusing the boot beats creating an administrator with a weak password.
  if (problems.length > 0) throw new Error(weakPasswordMessage(problems));
}

/**
 * The bootstrap password from `WHARF_ADMIN_PASSWORD`, or from the file `WHARF_ADMIN_PASSWORD_FILE`
 * names (ADR 0027); `undefined` when neither is set. Both set, or an unreadable or empty file,
 * is an error.
 */
export function adminPasswordFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const inline = env[ADMIN_PASSWORD_ENV];
  const file = env[ADMIN_PASSWORD_FILE_ENV];
  if (file === undefined || file === '') return inline === '' ? undefined : inline;
  if (inline !== undefined && inline !== '') throw new Error(`set either ${ADMIN_PASSWORD_ENV} or ${ADMIN_PASSWORD_FILE_ENV}, not both`);
  let text: string;
  try {
    text = readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new Error(`${ADMIN_PASSWORD_FILE_ENV}: cannot read ${path.resolve(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const password = text.replace(/[\r\n]+$/, '');
  if (password === '') throw new Error(`${ADMIN_PASSWORD_FILE_ENV}: ${path.resolve(file)} is empty`);
  return password;
}

function weakPasswordMessage(problems: readonly string[]): string {
  return `${ADMIN_PASSWORD_ENV} does not meet the password policy (${problems.join('; ')}); set a stronger one or unset it to have a password generated`;
}

export async function bootstrapAdmin(options: BootstrapOptions): Promise<BootstrapOutcome> {
  const { users, username, logger } = options;
  const fromEnv = adminPasswordFromEnv(options.env);
  const hasEnvPassword = fromEnv !== undefined;
  if (await users.hasAdmin()) {
    if (hasEnvPassword) logger.info(`${ADMIN_PASSWORD_ENV} is ignored: an administrator exists`);
    return 'exists';
  }
  if (hasEnvPassword) {
    const problems = passwordProblems(options.policy, fromEnv);
    if (problems.length > 0) {
      throw new Error(weakPasswordMessage(problems));
    }
    return (await createAdmin(options, fromEnv)) ? logCreated(logger, username, 'created-from-env') : taken(options);
  }
  return createWithGeneratedPassword(options);
}

async function createAdmin(options: BootstrapOptions, password: string): Promise<boolean> {
  try {
    await options.users.create(options.username, password, { admin: true });
    return true;
  } catch (err) {
    if (err instanceof UserDirectoryError && err.code === 'USER_EXISTS') return false;
    throw err;
  }
}

/**
 * The password reaches the disk before the user exists, so a crash in between leaves a
 * password nobody can use rather than an administrator nobody can log in as. Only after the
 * insert won does the temp file become `admin-password`.
 */
async function createWithGeneratedPassword(options: BootstrapOptions): Promise<BootstrapOutcome> {
  const password = generatePassword(options.policy);
  await mkdir(options.dataDir, { recursive: true });
  const target = path.join(options.dataDir, ADMIN_PASSWORD_FILE);
  const temp = path.join(options.dataDir, `.${ADMIN_PASSWORD_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.chmod(0o600); // whatever the umask did
    await file.writeFile(`${password}\n`, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  let created = false;
  try {
    created = await createAdmin(options, password);
    if (created) await rename(temp, target);
  } finally {
    if (!created) await unlink(temp).catch(() => undefined);
  }
  if (!created) return taken(options);
  options.logger.warn(
    { user: options.username, file: target },
    `created the administrator "${options.username}" with a generated password; read it from ${target}, log in, change it and delete the file`,
  );
  return 'created-generated';
}

function logCreated(logger: Logger, username: string, outcome: BootstrapOutcome): BootstrapOutcome {
  logger.info({ user: username }, `created the administrator "${username}" with the password from ${ADMIN_PASSWORD_ENV}`);
  return outcome;
}

/** The insert lost: either another node just created the administrator, or the name is taken. */
async function taken(options: BootstrapOptions): Promise<BootstrapOutcome> {
  if (await options.users.hasAdmin()) {
    options.logger.info({ user: options.username }, 'another node created the administrator');
    return 'created-elsewhere';
  }
  options.logger.warn(
    { user: options.username },
    `no administrator exists and the user "${options.username}" is not one; set bootstrapAdmin.username to a free name to create one`,
  );
  return 'name-taken';
}
