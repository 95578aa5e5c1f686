import { AsyncParallelHook, AsyncSeriesHook } from 'tapable';
import type {
  ArtifactPulledEvent,
  BlobCommitContext,
  BlobCommittedEvent,
  DeleteContext,
  ManifestDeletedEvent,
  ManifestPushedEvent,
  ManifestPutContext,
  PullContext,
  RegistryHooks,
} from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';

/** Policy gates (series: a throw refuses) and events (parallel notifications). */
export function createRegistryHooks(options: InstrumentOptions): RegistryHooks {
  const gate = <T>(name: string, arg: string) =>
    instrument(`registry.${name}`, new AsyncSeriesHook<[T]>([arg], `registry.${name}`), options);
  const event = <T>(name: string) =>
    instrument(`registry.${name}`, new AsyncParallelHook<[T]>(['event'], `registry.${name}`), options);
  return Object.freeze({
    beforeManifestPut: gate<ManifestPutContext>('beforeManifestPut', 'context'),
    beforeBlobCommit: gate<BlobCommitContext>('beforeBlobCommit', 'context'),
    blobCommitFailed: instrument('registry.blobCommitFailed', new AsyncSeriesHook<[BlobCommitContext, unknown]>(['context', 'error'], 'registry.blobCommitFailed'), options),
    beforeDelete: gate<DeleteContext>('beforeDelete', 'context'),
    beforePull: gate<PullContext>('beforePull', 'context'),
    manifestPushed: event<ManifestPushedEvent>('manifestPushed'),
    manifestDeleted: event<ManifestDeletedEvent>('manifestDeleted'),
    blobCommitted: event<BlobCommittedEvent>('blobCommitted'),
    artifactPulled: event<ArtifactPulledEvent>('artifactPulled'),
  });
}
