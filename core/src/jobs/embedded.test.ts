import { after, before, describe } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { createMetadataStore, KnexMetadataStore } from '../metadata/index.js';
import type { MetadataStore } from '../metadata/types.js';
import { jobServiceBehaviour, type JobsHarness } from './test-support/behaviour-suite.js';
import { EmbeddedJobService } from './embedded/service.js';
import { testLogger, testSettings } from './test-support/index.js';

/** The behaviour suite on the embedded backend, once per database (each its own, fresh). */

forEachDatabase((name, create) => {
  describe('embedded jobs', () => {
    let store: MetadataStore;
    before(async () => {
      const db = await create();
      store = createMetadataStore(db.config, testLogger);
      await store.migrate();
    });
    after(async () => {
      await store.close();
    });
    const harness = (): JobsHarness => ({
      async namespace() {
        const knex = (store as KnexMetadataStore).knex;
        let n = 0;
        return (options = {}) =>
          new EmbeddedJobService(knex, {
            settings: testSettings(options.settings),
            logger: testLogger.child({ db: name }),
            nodeId: `test-node-${(n += 1)}`,
            ...(options.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.sweepIntervalMs }),
          });
      },
    });
    jobServiceBehaviour(harness);
  });
});
