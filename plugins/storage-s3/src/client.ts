import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** What the S3 client is built from: the connection part of the plugin's config. */
export interface S3ConnectionOptions {
  region?: string | undefined;
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  sessionToken?: string | undefined;
  maxAttempts?: number | undefined;
  retryMode?: 'standard' | 'adaptive' | undefined;
  connectTimeoutMs?: number | undefined;
  socketTimeoutMs?: number | undefined;
  maxSockets?: number | undefined;
  checksums?: 'whenSupported' | 'whenRequired' | undefined;
}

/**
 * Builds the SDK client. Retries (throttling, 5xx, network errors) are the SDK's own retry
 * strategy with `maxAttempts`; every request body Wharf sends is a Buffer, so each attempt
 * can resend it. Credentials come from the config or, without `accessKeyId`, from the SDK's
 * default provider chain.
 */
export function createS3Client(options: S3ConnectionOptions, overrides: { endpoint?: string } = {}): S3Client {
  const endpoint = overrides.endpoint ?? options.endpoint;
  const region = options.region ?? (endpoint ? process.env['AWS_REGION'] ?? 'us-east-1' : undefined);
  if (options.accessKeyId !== undefined && options.secretAccessKey === undefined) {
    throw new TypeError('s3 storage: accessKeyId is set but secretAccessKey is not');
  }
  if (options.accessKeyId === undefined && options.secretAccessKey !== undefined) {
    throw new TypeError('s3 storage: secretAccessKey is set but accessKeyId is not');
  }
  const maxSockets = options.maxSockets ?? 64;
  const checksums = options.checksums === 'whenRequired' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  const config: S3ClientConfig = {
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    forcePathStyle: options.forcePathStyle ?? false,
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: options.retryMode ?? 'standard',
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    // Options of the SDK's Node HTTP handler: the SDK builds the handler from them.
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 5000,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    },
    ...(options.accessKeyId === undefined || options.secretAccessKey === undefined
      ? {}
      : {
          credentials: {
            accessKeyId: options.accessKeyId,
            secretAccessKey: options.secretAccessKey,
            ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
          },
        }),
  };
  return new S3Client(config);
}
