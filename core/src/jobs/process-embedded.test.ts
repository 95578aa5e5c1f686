import { after, describe } from 'node:test';
import { createMetadataStore, KnexMetadataStore } from '../metadata/index.js';
import type { MetadataStore } from '../metadata/types.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { toNumber } from '../metadata/sql.js';
import { EmbeddedJobService } from './embedded/service.js';
import { processScenarios } from './test-support/process-scenarios.js';
import { testLogger } from './test-support/index.js';

/** kill -9 and two nodes on one database, with real child processes, on every database. */

forEachDatabase((_name, create) => {
  describe('embedded jobs across processes', () => {
    const stores: MetadataStore[] = [];
    after(async () => {
      for (const s of stores) await s.close();
    });
    processScenarios(() => ({
      async prepare() {
        const db = await create();
        const store = createMetadataStore(db.config, testLogger);
        stores.push(store);
        await store.migrate();
        return { settings: { backend: 'embedded' }, database: db.config };
      },
      client(settings) {
        return new EmbeddedJobService((stores.at(-1) as KnexMetadataStore).knex, { settings, logger: testLogger, nodeId: 'test-client' });
      },
      async ticks(name) {
        const knex = (stores.at(-1) as KnexMetadataStore).knex;
        const rows = (await knex('jobs').where('tick_key', 'like', `${name}@%`).select('tick_key')) as { tick_key: string }[];
        return rows.map((r) => toNumber(r.tick_key.slice(name.length + 1)));
      },
    }));
  });
});
