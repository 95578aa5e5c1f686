import { PassThrough, Transform, addAbortSignal, type TransformCallback } from 'node:stream';

/**
 * Bandwidth limit of one replication task (Harbor's `speed`, KiB/s; -1 or 0 = unlimited).
 * A token bucket: tokens are bytes, refilled at the rate, capped at a small burst. Each chunk is
 * passed on in slices no larger than the burst, and the transform callback runs only once the
 * whole chunk is out, so at most one chunk is held here and stream backpressure is unchanged.
 */

export interface ThrottleOptions {
  /** KiB per second; 0 or -1 means unlimited. */
  readonly kibPerSecond: number;
  /** Destroys the stream (with an AbortError) when aborted, also during a wait. */
  readonly signal?: AbortSignal | undefined;
  /** Bucket size in bytes; default a tenth of a second of traffic, between 1 KiB and 1 MiB. */
  readonly burstBytes?: number | undefined;
}

const KIB = 1024;

/** True when `kibPerSecond` means "no limit". */
export function isUnlimited(kibPerSecond: number): boolean {
  return kibPerSecond === 0 || kibPerSecond === -1;
}

class ThrottleStream extends Transform {
  private readonly bytesPerMs: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(bytesPerSecond: number, burst: number) {
    super();
    this.bytesPerMs = bytesPerSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
    this.last = performance.now();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sendFrom(chunk, 0, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A pending wait would keep the process alive and push after destroy.
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    callback(error);
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.bytesPerMs);
    this.last = now;
  }

  private sendFrom(chunk: Buffer, offset: number, callback: TransformCallback): void {
    while (offset < chunk.length) {
      if (this.destroyed) return;
      const size = Math.min(this.burst, chunk.length - offset);
      this.refill();
      if (this.tokens < size) {
        const wait = Math.ceil((size - this.tokens) / this.bytesPerMs);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.sendFrom(chunk, offset, callback);
        }, wait);
        return;
      }
      this.tokens -= size;
      this.push(chunk.subarray(offset, offset + size));
      offset += size;
    }
    callback();
  }
}

/**
 * A transform that passes bytes unchanged at no more than `kibPerSecond` KiB/s. Unlimited rates
 * get a plain pass-through, so callers can always pipe through the result.
 */
export function createThrottle(options: ThrottleOptions): Transform {
  const { kibPerSecond, signal } = options;
  if (!Number.isFinite(kibPerSecond) || (kibPerSecond < 0 && kibPerSecond !== -1)) {
    throw new RangeError(`throttle: rate must be a positive number of KiB/s, 0 or -1 (unlimited); got ${kibPerSecond}`);
  }
  let stream: Transform;
  if (isUnlimited(kibPerSecond)) {
    stream = new PassThrough();
  } else {
    const bytesPerSecond = kibPerSecond * KIB;
    const burst = options.burstBytes ?? Math.min(Math.max(Math.floor(bytesPerSecond / 10), KIB), KIB * KIB);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`throttle: burstBytes must be a positive integer; got ${burst}`);
    stream = new ThrottleStream(bytesPerSecond, burst);
  }
  return signal === undefined ? stream : addAbortSignal(signal, stream);
}
