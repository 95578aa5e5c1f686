import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';

/**
 * The transaction of `coreServices.database.transaction(fn)` while `fn` runs. Plugins' stores
 * read `database.knex`, and the events service publishes, through it: a plugin's change and the
 * events describing it commit together without threading a transaction through every call.
 */

const ambient = new AsyncLocalStorage<Knex.Transaction>();

/** The transaction the current async call chain runs in, if any. */
export function currentTransaction(): Knex.Transaction | undefined {
  return ambient.getStore();
}

/** Runs `fn` in a transaction of `knex` (or in the current one: nesting joins it). */
export function inAmbientTransaction<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const current = ambient.getStore();
  if (current) return fn(current);
  return knex.transaction((trx) => ambient.run(trx, () => fn(trx)));
}
