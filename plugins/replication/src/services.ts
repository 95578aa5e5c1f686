import { createServiceRef } from '@wharf/sdk';
import type { Replication } from './replication.js';

/**
 * The replication engine as a service: its store (endpoints, policies, executions, tasks), the
 * engine (start, stop, resume) and the pings. The plugin's API operations and CLI commands use
 * it; other plugins may depend on it to read or start replications.
 */
export const replicationServiceRef = createServiceRef<Replication>({ id: 'replication.engine' });
