import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ByteRange } from '@wharf/sdk';
import { classifyS3Error, s3RequestError, type S3Target } from './errors.js';
import { exactRange } from './exact-range.js';

/** DeleteObjects takes at most this many keys per request. */
export const DELETE_BATCH = 1000;

export interface BucketOptions {
  readonly bucket: string;
  /** For messages: the configured endpoint, or `AWS S3 (<region>)`. */
  readonly endpointLabel: string;
  readonly serverSideEncryption?: string | undefined;
  readonly kmsKeyId?: string | undefined;
  readonly storageClass?: string | undefined;
}

/** An object as a listing shows it. */
export interface Listed {
  readonly key: string;
  readonly size: number;
}

/**
 * The S3 calls the driver makes, on one bucket: default parameters (encryption, storage class)
 * in one place, and every failure turned into an error that says what failed and why. "Not
 * found" is an answer (`undefined`), not an error.
 */
export class Bucket {
  readonly target: S3Target;
  readonly #name: string;
  readonly #encryption: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string };
  readonly #dataClass: { StorageClass?: StorageClass };

  constructor(
    readonly client: S3Client,
    readonly presignClient: S3Client,
    options: BucketOptions,
  ) {
    this.#name = options.bucket;
    this.target = { bucket: options.bucket, endpoint: options.endpointLabel };
    this.#encryption = {
      ...(options.serverSideEncryption ? { ServerSideEncryption: options.serverSideEncryption as ServerSideEncryption } : {}),
      ...(options.kmsKeyId ? { SSEKMSKeyId: options.kmsKeyId } : {}),
    };
    this.#dataClass = options.storageClass ? { StorageClass: options.storageClass as StorageClass } : {};
  }

  /**
   * Writes a whole object. `data` objects get the configured storage class; `scratch` segments
   * and `meta` objects (markers, claims) stay STANDARD: they are short-lived or tiny, and the
   * infrequent-access classes bill a minimum size and duration.
   */
  async put(key: string, body: Buffer, kind: 'data' | 'scratch' | 'meta'): Promise<void> {
    await this.#send(`PutObject ${key}`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.#name,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: kind === 'meta' ? 'application/json' : 'application/octet-stream',
          ...this.#encryption,
          ...(kind === 'data' ? this.#dataClass : {}),
        }),
      ),
    );
  }

  /** A small object's bytes (at most `limit`), or `undefined` when it does not exist. */
  async getSmall(key: string, limit: number): Promise<Buffer | undefined> {
    const opened = await this.getStream(key);
    if (!opened) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of opened) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        opened.destroy();
        throw s3RequestError(new Error(`object is larger than ${limit} bytes`), this.target, `GetObject ${key}`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /**
   * Streams an object, or exactly the inclusive `range` of it, or `undefined` when the object
   * does not exist. The stream is cut to the range even when the store answers with more (s3rver
   * answers `bytes=0-0` with the whole object).
   */
  async getStream(key: string, range?: ByteRange): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.#name, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      const body = out.Body as Readable | undefined;
      if (!body) throw new Error('response has no body');
      if (!range) return body;
      return exactRange(body, range, firstByteServed(out.ContentRange), `${this.#name}/${key}`);
    } catch (err) {
      if (classifyS3Error(err).problem === 'not-found') return undefined;
      throw s3RequestError(err, this.target, `GetObject ${key}${range ? ` bytes ${range.start}-${range.end}` : ''}`);
    }
  }

  /** The size of an object, or `undefined` when it does not exist. */
  async size(key: string): Promise<number | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.#name, Key: key }));
      return out.ContentLength ?? 0;
    } catch (err) {
      if (classifyS3Error(err).problem === 'not-found') return undefined;
      throw s3RequestError(err, this.target, `HeadObject ${key}`);
    }
  }

  /** Every object under `prefix`, in key order, page by page (1,000 keys a request). */
  async *list(prefix: string, options: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<Listed> {
    let token: string | undefined;
    do {
      const page = await this.#send(`ListObjectsV2 ${prefix}`, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.#name,
            Prefix: prefix,
            ...(options.pageSize ? { MaxKeys: options.pageSize } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Deletes keys with DeleteObjects, up to 1,000 a request, in order: a key in a later batch is
   * never deleted before one of an earlier batch. Missing keys count as deleted.
   */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.#send(`DeleteObjects (${batch.length} keys from ${batch[0]})`, () =>
        this.client.send(
          new DeleteObjectsCommand({ Bucket: this.#name, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        ),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0];
        const err = Object.assign(new Error(first?.Message ?? 'delete failed'), { Code: first?.Code });
        throw s3RequestError(err, this.target, `DeleteObjects: ${failed.length} of ${batch.length} keys, e.g. ${first?.Key}`);
      }
    }
  }

  async createMultipart(key: string): Promise<string> {
    const out = await this.#send(`CreateMultipartUpload ${key}`, () =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#name,
          Key: key,
          ContentType: 'application/octet-stream',
          ...this.#encryption,
          ...this.#dataClass,
        }),
      ),
    );
    if (!out.UploadId) throw s3RequestError(new Error('no UploadId in the response'), this.target, `CreateMultipartUpload ${key}`);
    return out.UploadId;
  }

  /** Uploads part `partNumber` (1-based) and returns its ETag. */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const out = await this.#send(`UploadPart ${key} #${partNumber}`, () =>
      this.client.send(
        new UploadPartCommand({
          Bucket: this.#name,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
      ),
    );
    if (!out.ETag) throw s3RequestError(new Error('no ETag in the response'), this.target, `UploadPart ${key} #${partNumber}`);
    return out.ETag;
  }

  /** Joins parts 1..n (with these ETags) into the object `key`, atomically. */
  async completeMultipart(key: string, uploadId: string, etags: readonly string[]): Promise<void> {
    await this.#send(`CompleteMultipartUpload ${key} (${etags.length} parts)`, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#name,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      ),
    );
  }

  /**
   * Discards a multipart upload's parts. `unsupported` when the store has no AbortMultipartUpload
   * (s3rver): the parts then stay until the store's own cleanup (an S3 lifecycle rule).
   */
  async abortMultipart(key: string, uploadId: string): Promise<'aborted' | 'gone' | 'unsupported'> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.#name, Key: key, UploadId: uploadId }));
      return 'aborted';
    } catch (err) {
      const { problem } = classifyS3Error(err);
      if (problem === 'not-found') return 'gone';
      if (problem === 'not-implemented') return 'unsupported';
      throw s3RequestError(err, this.target, `AbortMultipartUpload ${key}`);
    }
  }

  /** A presigned URL for GET or HEAD of `key` (computed locally: no request). */
  async presign(key: string, method: 'GET' | 'HEAD', expiresInSeconds: number): Promise<string> {
    const command =
      method === 'GET'
        ? new GetObjectCommand({ Bucket: this.#name, Key: key })
        : new HeadObjectCommand({ Bucket: this.#name, Key: key });
    return getSignedUrl(this.presignClient, command, { expiresIn: expiresInSeconds });
  }

  async #send<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw s3RequestError(err, this.target, action);
    }
  }
}

/** The first byte a GET answered with: from `Content-Range: bytes a-b/n`, else 0 (a 200 with the whole object). */
function firstByteServed(contentRange: string | undefined): number {
  const match = contentRange ? /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange.trim()) : null;
  return match ? Number(match[1]) : 0;
}
