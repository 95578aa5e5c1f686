import type {
  ArtifactService,
  BlobService,
  ContentService,
  DatabaseService,
  EventDraft,
  EventService,
  JobService,
  Logger,
  ReplicationTargetService,
  SecretService,
} from '@wharf/sdk';
import { ReplicationEngine, type EngineSettings } from './engine.js';
import { createLocalTarget } from './local-target.js';
import type { Endpoint, EndpointInput } from './model.js';
import { ReplicationStore } from './store.js';

/**
 * Replication: the store, the engine, and the operations the API and CLI need, built on SDK
 * services only. Adapters (how to talk to another registry) come from `replication.target`
 * plugins, opened through `coreServices.replicationTargets`.
 * @see docs/architecture/12-replication.md
 */

export interface ReplicationDeps {
  readonly database: DatabaseService;
  readonly jobs: JobService;
  /** Durable events: the trigger consumer subscribes, status changes are recorded. */
  readonly events: EventService;
  readonly secrets: SecretService;
  readonly targets: ReplicationTargetService;
  readonly artifacts: ArtifactService;
  readonly blobs: BlobService;
  readonly content: ContentService;
  readonly logger: Logger;
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
  const { database } = deps;
  const store = new ReplicationStore(database.knex, deps.secrets, database);
  const local = createLocalTarget({
    artifacts: deps.artifacts, blobs: deps.blobs, content: deps.content,
    ping: async () => void (await database.knex.raw('select 1')),
  });
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
    transaction: (fn) => database.transaction((trx) => fn(store.using(trx), (draft) => deps.events.publish(draft, { transaction: trx }))),
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
