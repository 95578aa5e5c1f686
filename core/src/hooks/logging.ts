import { HookMap, SyncBailHook } from 'tapable';
import type { LogSink, LogSinkContext, LogSinkEntry, LoggingHooks } from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';

/** Sink types, one bail hook per type (`sink.for('syslog')`). */
export function createLoggingHooks(options: InstrumentOptions): LoggingHooks {
  return Object.freeze({
    sink: new HookMap(
      (type: string) =>
        instrument(
          `logging.sink:${type}`,
          new SyncBailHook<[LogSinkEntry, LogSinkContext], LogSink | undefined>(['entry', 'context'], `logging.sink:${type}`),
          options,
        ),
      'logging.sink',
    ),
  });
}
