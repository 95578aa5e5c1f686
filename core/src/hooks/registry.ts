import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook } from 'tapable';
import type {
  ArtifactPulledEvent,
  BlobCommitContext,
  BlobCommittedEvent,
  BlobRequest,
  BlobSource,
  ManifestPreparation,
  ManifestRequest,
  UploadStartContext,
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
    beforeUploadStart: gate<UploadStartContext>('beforeUploadStart', 'context'),
    prepareManifest: instrument('registry.prepareManifest', new AsyncSeriesBailHook<[ManifestRequest], ManifestPreparation | undefined>(['request'], 'registry.prepareManifest'), options),
    fetchBlob: instrument('registry.fetchBlob', new AsyncSeriesBailHook<[BlobRequest], BlobSource | undefined>(['request'], 'registry.fetchBlob'), options),
    manifestPushed: event<ManifestPushedEvent>('manifestPushed'),
    manifestDeleted: event<ManifestDeletedEvent>('manifestDeleted'),
    blobCommitted: event<BlobCommittedEvent>('blobCommitted'),
    artifactPulled: event<ArtifactPulledEvent>('artifactPulled'),
  });
}
