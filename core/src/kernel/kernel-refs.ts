import { createServiceRef } from '@wharf/sdk';
import type { ContentServices } from '../content/index.js';
import type { JobRuntime } from '../jobs/index.js';
import type { KnexMetadataStore } from '../metadata/index.js';

/**
 * The kernel's own services, resolved by typed refs like plugins' services (never by a string
 * name). No plugin holds these refs; their ids are taken, so a plugin cannot provide them.
 */
export const kernelRefs = Object.freeze({
  metadata: createServiceRef<KnexMetadataStore>({ id: 'kernel.metadata' }),
  jobs: createServiceRef<JobRuntime>({ id: 'kernel.jobs' }),
  /** The content services, one set behind the four `coreServices` content refs. */
  content: createServiceRef<ContentServices>({ id: 'kernel.content' }),
});
