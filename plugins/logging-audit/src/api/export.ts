import { stringify } from 'csv-stringify/sync';
import type { AuditFilter, AuditStore, StoredEntry } from '../store.js';
import { CSV_COLUMNS, viewOf } from '../view.js';

/**
 * Exports, streamed batch by batch (each batch one short keyset query), so an export of millions
 * of entries holds one batch in memory. Nothing is sent before the first batch was read: a
 * database failure at the start is still an error envelope.
 */

function csvRows(batch: readonly StoredEntry[]): string {
  const rows = batch.map((entry) => {
    const view = viewOf(entry);
    return CSV_COLUMNS.map((column) => {
      const value = column === 'detail' ? JSON.stringify(view.detail) : view[column];
      return value === null || value === undefined ? '' : String(value);
    });
  });
  // escape_formulas: an actor name like `=HYPERLINK(...)` (a refused login's name is anyone's
  // input) must not run when an operator opens the file in a spreadsheet.
  return stringify(rows, { escape_formulas: true });
}

export async function* exportCsv(store: AuditStore, filter: AuditFilter): AsyncGenerator<string> {
  const batches = store.scan(filter);
  const first = await batches.next();
  yield stringify([[...CSV_COLUMNS]]) + (first.done ? '' : csvRows(first.value));
  if (first.done) return;
  for await (const batch of batches) yield csvRows(batch);
}

export async function* exportJson(store: AuditStore, filter: AuditFilter): AsyncGenerator<string> {
  const batches = store.scan(filter);
  const first = await batches.next();
  if (first.done) {
    yield '[]\n';
    return;
  }
  const items = (batch: readonly StoredEntry[]) => batch.map((e) => JSON.stringify(viewOf(e))).join(',\n');
  yield `[\n${items(first.value)}`;
  for await (const batch of batches) yield `,\n${items(batch)}`;
  yield '\n]\n';
}

/** `audit-log-lib-20261206T012345Z.csv`. */
export function exportName(project: string | undefined, format: 'csv' | 'json', now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return `audit-log-${project ? `${project}-` : ''}${stamp}.${format}`;
}
