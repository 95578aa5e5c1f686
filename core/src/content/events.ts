import type { BlobCommittedEvent, KernelHooks, ManifestDeletedEvent, ManifestPushedEvent } from '@wharf/sdk';
import type { Logger } from 'pino';

/**
 * The one place the content service raises the in-process registry hooks, fired as the OCI
 * routes fire them (after the change, not awaited, a failing listener logged). The durable
 * events are recorded by the manifest and upload services inside each change's transaction.
 */

type Body<E> = Omit<E, 'id' | 'timestamp'>;

export interface ContentEvents {
  manifestPushed(body: Body<ManifestPushedEvent>): void;
  manifestDeleted(body: Body<ManifestDeletedEvent>): void;
  blobCommitted(body: Body<BlobCommittedEvent>): void;
}

export function contentEvents(hooks: KernelHooks, logger: Logger): ContentEvents {
  const registry = hooks.registry;
  return {
    manifestPushed: (body) => raise(registry.manifestPushed, body, logger, 'manifestPushed'),
    manifestDeleted: (body) => raise(registry.manifestDeleted, body, logger, 'manifestDeleted'),
    blobCommitted: (body) => raise(registry.blobCommitted, body, logger, 'blobCommitted'),
  };
}

function raise<E extends { id: string; timestamp: Date }>(hook: { promise(event: E): Promise<void> }, body: Body<E>, logger: Logger, name: string): void {
  const event = { ...body, id: crypto.randomUUID(), timestamp: new Date() } as E;
  hook.promise(event).catch((err: unknown) => logger.error({ err, event: name }, 'event listener failed'));
}
