import type { Knex } from 'knex';
import type { EventDraft, EventService, JobService, KernelHooks, ReplicationTargetService, StorageDriver } from '@wharf/sdk';
import type { EventRecorder } from '../events/events-runtime.js';
import type { Logger } from 'pino';
import type { MetadataStore } from '../metadata/types.js';
import { ReplicationEngine, type EngineSettings } from './engine.js';
import { createLocalTarget } from './local-target.js';
import type { Endpoint, EndpointInput } from './model.js';
import type { SecretService as SecretBox } from '@wharf/sdk';
import { ReplicationStore } from './store.js';

/**
 * Replication in the kernel: the store, the engine, and the operations the API needs. Adapters
 * (how to talk to another registry) come from plugins on the `replication.target` hook map.
 * @see docs/architecture/12-replication.md
 */

export interface ReplicationDeps {
  readonly knex: Knex;
  readonly hooks: KernelHooks;
  readonly jobs: JobService;
  /** Durable events: the trigger consumer subscribes, and content written locally records them. */
  readonly events: EventService;
  readonly recorder: EventRecorder;
  readonly metadata: MetadataStore;
  readonly storage: StorageDriver;
  readonly secrets: SecretBox;
  readonly targets: ReplicationTargetService;
  readonly logger: Logger;
  readonly registry: { readonly deleteEnabled: boolean; readonly uploadLeaseMs: number };
  readonly settings: EngineSettings;
}

export interface PingOutcome {
  readonly ok: boolean;
  readonly message: string;
}

export interface Replication {
  readonly store: ReplicationStore;
  readonly engine: ReplicationEngine;
  /**
   * Runs `fn` in one transaction with the store bound to it and a `publish` that records
   * events in the same transaction: a change and the event describing it commit together.
   */
  transaction<T>(fn: (store: ReplicationStore, publish: (draft: EventDraft<unknown>) => Promise<void>) => Promise<T>): Promise<T>;
  /** Endpoint types some plugin can open. */
  adapters(): string[];
  /** Connects to an endpoint that is not saved (its secret in plain). */
  ping(input: EndpointInput): Promise<PingOutcome>;
  /** Connects to a saved endpoint with its stored credentials. */
  pingEndpoint(endpoint: Endpoint): Promise<PingOutcome>;
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = Object.freeze({
  taskConcurrency: 4,
  taskAttempts: 3,
  retryBackoffMs: 2000,
  keepExecutions: 50,
});

export const PING_WITH_CREDENTIALS = 'the registry answered and accepted the credentials';
export const PING_ANONYMOUS = 'the registry answered an anonymous request (no credentials are set, so none were checked)';

export function createReplication(deps: ReplicationDeps): Replication {
  const store = new ReplicationStore(deps.knex, deps.secrets);
  const local = createLocalTarget({ ...deps, ...deps.registry, events: deps.recorder, logger: deps.logger });
  const engine = new ReplicationEngine({ store, jobs: deps.jobs, events: deps.events, targets: deps.targets, local, logger: deps.logger, settings: deps.settings });

  /** Says what was checked: without credentials, only that the registry answers anonymous callers. */
  async function pingTarget(open: () => ReturnType<ReplicationEngine['open']>, withCredentials: boolean): Promise<PingOutcome> {
    let target;
    try {
      target = await open();
      await target.ping();
      return { ok: true, message: withCredentials ? PING_WITH_CREDENTIALS : PING_ANONYMOUS };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    } finally {
      await target?.close?.().catch(() => undefined);
    }
  }

  return {
    store,
    engine,
    transaction: (fn) => deps.knex.transaction((trx) => fn(store.using(trx), (draft) => deps.events.publish(draft, { transaction: trx }))),
    adapters: () => deps.targets.kinds(),
    ping: (input) =>
      pingTarget(async () => {
        return deps.targets.open({
          name: input.name, type: input.type, url: input.url, insecure: input.insecure, caCertificate: input.caCertificate,
          credentials: input.username && input.secret ? { username: input.username, password: input.secret } : undefined,
        });
      }, Boolean(input.username && input.secret)),
    pingEndpoint: (endpoint) => pingTarget(() => engine.open(endpoint), endpoint.username !== undefined && endpoint.username !== '' && endpoint.hasSecret),
  };
}
