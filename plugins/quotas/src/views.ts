import { Type, type Static } from '@wharf/sdk';
import type { QuotaRow } from './store.js';

const Amounts = (description: string) =>
  Type.Object(
    {
      storage: Type.Integer({ minimum: -1, description: 'bytes; a blob shared by several artifacts of the project counts once (-1 in `hard`: unlimited)' }),
      count: Type.Integer({ minimum: -1, description: 'artifacts (-1 in `hard`: unlimited)' }),
    },
    { description },
  );

/** A project's quota, in Harbor's shape (`hard` limits and `used` amounts) plus the artifact count. */
export const QuotaSchema = Type.Object({
  ref: Type.Object({ name: Type.String({ description: 'the project' }) }),
  hard: Type.Object(
    {
      ...Amounts('').properties,
      repository_storage: Type.Integer({ minimum: -1, description: 'bytes each repository of the project may hold (its manifests and linked blobs; -1: unlimited)' }),
    },
    { description: 'the limits' },
  ),
  used: Amounts('the usage, updated as pushes and deletes happen'),
  creation_time: Type.String({ format: 'date-time' }),
  update_time: Type.String({ format: 'date-time' }),
});
export type QuotaView = Static<typeof QuotaSchema>;

export function quotaView(row: QuotaRow): QuotaView {
  return {
    ref: { name: row.project },
    hard: { storage: row.storageLimit, count: row.countLimit, repository_storage: row.repositoryStorageLimit },
    used: { storage: row.storageUsed, count: row.countUsed },
    creation_time: row.createdAt.toISOString(),
    update_time: row.updatedAt.toISOString(),
  };
}
