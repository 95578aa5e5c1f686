import { createHash, randomBytes } from 'node:crypto';
import { systemEvents, type ConfigChangedData, type DatabaseService, type EventService } from '@wharf/sdk';

/**
 * At boot: compares the effective configuration with the last boot's and records a
 * `system.config.changed` event naming the key paths that changed (the audit log shows it as
 * an update of `configuration` by `system`). What is stored is a salted SHA-256 per key path,
 * never a value: secrets (`bindPassword`, a Redis URL with a password) are treated like every
 * other value, and the salt (random per deployment) keeps a low-entropy secret from being
 * guessed from its hash. The first boot stores the fingerprint and records nothing. Several
 * nodes share one fingerprint: nodes booted with different files each record what differs from
 * the node booted before them, which is how drift between nodes shows.
 */

const ROW = 'deployment';
const MAX_PATHS = 200;

/** Every leaf of `value` by key path, in the notation of secret paths (`a.b[0].c`). */
export function leaves(value: unknown, path = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, value);
    value.forEach((v, i) => leaves(v, `${path}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) out.set(path, value);
    for (const [k, v] of entries) leaves(v, path === '' ? k : `${path}.${k}`, out);
  } else if (value !== undefined) {
    out.set(path, value);
  }
  return out;
}

export function fingerprint(config: unknown, salt: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, value] of leaves(config)) {
    out[path] = createHash('sha256').update(salt).update('\u0000').update(JSON.stringify(value)).digest('base64url').slice(0, 22);
  }
  return out;
}

export function diff(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): ConfigChangedData {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [path, hash] of Object.entries(after)) {
    if (!(path in before)) added.push(path);
    else if (before[path] !== hash) changed.push(path);
  }
  for (const path of Object.keys(before)) if (!(path in after)) removed.push(path);
  const truncated = [changed, added, removed].some((l) => l.length > MAX_PATHS);
  const cut = (l: string[]) => l.sort().slice(0, MAX_PATHS);
  return { changed: cut(changed), added: cut(added), removed: cut(removed), truncated };
}

/** Stores this boot's fingerprint; records the change event when it differs. Returns what changed, if anything. */
export async function recordConfigChanges(config: unknown, database: DatabaseService, events: EventService): Promise<ConfigChangedData | undefined> {
  return database.transaction(async (trx) => {
    const row = (await trx('config_fingerprints').where({ id: ROW }).first()) as { salt: string; hashes: string } | undefined;
    const salt = row?.salt ?? randomBytes(24).toString('base64url');
    const now = fingerprint(config, salt);
    const record = { salt, hashes: JSON.stringify(now), updated_at: Date.now() };
    if (!row) {
      // Two nodes booting at once on a new database: the first row wins.
      await trx('config_fingerprints').insert({ id: ROW, ...record }).onConflict('id').ignore();
      return undefined;
    }
    const change = diff(JSON.parse(row.hashes) as Record<string, string>, now);
    if (change.changed.length + change.added.length + change.removed.length === 0) return undefined;
    await trx('config_fingerprints').where({ id: ROW }).update(record);
    await events.publish({
      type: systemEvents.configChanged,
      partition: 'system:config',
      actor: { subject: 'system', kind: 'system', provider: 'kernel' },
      data: change,
    }, { transaction: trx });
    return change;
  });
}
