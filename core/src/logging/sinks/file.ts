import path from 'node:path';
import { checkSinkOptions, Type, type LogRecord, type LogSink, type LogSinkContext } from '@wharf/sdk';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/**
 * The `file` sink: JSON lines appended to a file that rotates by size and by time
 * (rotating-file-stream). Rotated files are named `<file>.<UTC yyyymmddThhmmss>.<n>` and the
 * oldest are removed beyond `maxFiles` (listed in `<file>.history`).
 */

export const FileSinkOptions = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'the log file; relative to the config file directory' }),
    maxSize: Type.Optional(Type.String({ pattern: '^[0-9]+[BKMG]$', description: 'rotate when the file reaches this size: 10M, 512K, 1G' })),
    interval: Type.Optional(Type.String({ pattern: '^[0-9]+[smhdM]$', description: 'rotate every interval: 1d, 6h, 30m (s and m divide 60, h divides 24)' })),
    maxFiles: Type.Integer({ minimum: 1, default: 14, description: 'rotated files kept' }),
    compress: Type.Boolean({ default: false, description: 'gzip rotated files' }),
  },
  { additionalProperties: false },
);

function stamp(time: number | Date): string {
  const d = time instanceof Date ? time : new Date(time);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

export function createFileSink(context: LogSinkContext): LogSink {
  const options = checkSinkOptions(FileSinkOptions, context);
  const file = path.resolve(context.baseDir, options.path);
  const name = path.basename(file);
  const open = (): RotatingFileStream => {
    const stream = createStream((time: number | Date | null, index?: number) => (time ? `${name}.${stamp(time)}.${index ?? 1}${options.compress ? '.gz' : ''}` : name), {
      path: path.dirname(file),
      maxFiles: options.maxFiles,
      // rotating-file-stream lists the rotated files here to know which to remove.
      history: `${name}.history`,
      ...(options.maxSize ? { size: options.maxSize } : {}),
      ...(options.interval ? { interval: options.interval } : {}),
      ...(options.compress ? { compress: 'gzip' as const } : {}),
      mode: 0o640,
    });
    // A failed file (disk full, directory removed) is reopened on the next write.
    stream.on('error', (err) => {
      failure = err;
    });
    return stream;
  };
  let failure: Error | undefined;
  let stream = open();
  return {
    write(records: readonly LogRecord[]) {
      if (failure) {
        const err = failure;
        failure = undefined;
        stream.destroy();
        stream = open();
        throw err;
      }
      const ok = stream.write(records.map((r) => `${r.line}\n`).join(''));
      if (ok) return;
      return new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    },
    close: () => new Promise<void>((resolve) => {
      if (stream.destroyed) return resolve();
      stream.end(() => resolve());
    }),
  };
}
