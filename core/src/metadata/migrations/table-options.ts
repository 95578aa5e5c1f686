import type { Knex } from 'knex';
import type { DatabaseDialect } from '@wharf/sdk';

/**
 * What every table of the kernel's migrations shares (from 002 on; 001 has shipped with its own
 * copy and stays as it is). On MySQL: InnoDB, and utf8mb4_bin so that names compare byte-wise
 * as they do on the others. Times are BIGINT epoch milliseconds (see `sql.ts`).
 */
export function tableOptions(dialect: DatabaseDialect): (t: Knex.CreateTableBuilder) => void {
  return (t) => {
    if (dialect === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
  };
}

export const epochMs = (t: Knex.CreateTableBuilder, column: string): Knex.ColumnBuilder => t.bigInteger(column);
