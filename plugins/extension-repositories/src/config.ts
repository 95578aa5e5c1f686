import { Type, type Static } from '@wharf/sdk';

/** The `extensions: { repositories: {} }` section: nothing to set yet. */
export const repositoriesConfigSchema = Type.Object({}, { additionalProperties: false });
export type RepositoriesConfig = Static<typeof repositoriesConfigSchema>;
