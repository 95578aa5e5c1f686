import type { DatabaseService } from '@wharf/sdk';

/** Quotes an identifier for the dialect. */
export type Quote = (name: string) => string;

export function quoter(dialect: DatabaseService['dialect']): Quote {
  return dialect === 'mysql' ? (name) => `\`${name}\`` : (name) => `"${name}"`;
}

/** By dialect and shape: the shapes are few (a statement per row or id count up to a batch's size). */
const WRITTEN = new Map<string, string>();

/**
 * A statement of this plugin written out once (by dialect and `key`) and then run through
 * `database.execute`: the worker's, the queue's and the fan-out's statements share the connection
 * with pushes, and building them with knex's query compiler and preparing them on every call cost
 * more CPU than running them (bench:webhooks profiles). `key` names the statement and its shape.
 */
export function statement(dialect: DatabaseService['dialect'], key: string, write: (q: Quote) => string): string {
  const full = `${dialect}:${key}`;
  let sql = WRITTEN.get(full);
  if (sql === undefined) WRITTEN.set(full, (sql = write(quoter(dialect))));
  return sql;
}
