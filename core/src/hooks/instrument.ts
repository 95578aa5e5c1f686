import type { Logger } from 'pino';

/**
 * The one interceptor every hook gets. On `register` it records who tapped; it also wraps each
 * tap so an error thrown by it is logged with the plugin id and tagged with it, which answers
 * tapable's "which tap threw?" for the error middleware and the boot.
 */

/** The parts of a tapable tap the kernel touches. */
export interface TapRecord {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: Function;
  stage?: number;
  before?: string;
}

/** What tapable hooks share: taps and interceptors. */
export interface InstrumentableHook {
  readonly taps: readonly TapRecord[];
  isUsed(): boolean;
  intercept(interceptor: { name?: string; register?: (tap: TapRecord) => TapRecord }): void;
}

export interface InstrumentOptions {
  /** Debug logging of taps and tap errors; nothing is logged without it. */
  readonly logger?: Logger | undefined;
  /** Run the latest-registered tap first (`lifecycle.close`). */
  readonly reverse?: boolean;
}

const PLUGIN = Symbol.for('wharf.hook.plugin');
const HOOK = Symbol.for('wharf.hook.name');

/** The plugin (tap name) whose hook tap threw `err`, when a hook tap did. */
export function pluginOfError(err: unknown): { plugin: string; hook: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const plugin = (err as Record<symbol, unknown>)[PLUGIN];
  const hook = (err as Record<symbol, unknown>)[HOOK];
  return typeof plugin === 'string' && typeof hook === 'string' ? { plugin, hook } : undefined;
}

function tag(err: unknown, plugin: string, hook: string, logger: Logger | undefined): void {
  if (typeof err === 'object' && err !== null && Object.isExtensible(err) && !(PLUGIN in err)) {
    // The innermost tap wins: a hook called from inside another tap keeps the real culprit.
    Object.defineProperty(err, PLUGIN, { value: plugin, enumerable: false });
    Object.defineProperty(err, HOOK, { value: hook, enumerable: false });
  }
  logger?.debug({ hook, plugin, err }, 'hook tap failed');
}

type AnyFn = (...args: unknown[]) => unknown;

function wrap(tap: TapRecord, hook: string, logger: Logger | undefined): AnyFn {
  const fn = tap.fn as AnyFn;
  const name = tap.name;
  if (tap.type === 'async') {
    return function (this: unknown, ...args: unknown[]) {
      const cb = args.pop() as (err?: unknown, ...rest: unknown[]) => void;
      const done = (err?: unknown, ...rest: unknown[]) => {
        if (err) tag(err, name, hook, logger);
        cb(err, ...rest);
      };
      try {
        return fn.call(this, ...args, done);
      } catch (err) {
        tag(err, name, hook, logger);
        throw err;
      }
    };
  }
  return function (this: unknown, ...args: unknown[]) {
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (err) {
      tag(err, name, hook, logger);
      throw err;
    }
    if (tap.type === 'promise' && result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then(undefined, (err: unknown) => {
        tag(err, name, hook, logger);
        throw err;
      });
    }
    return result;
  };
}

let sequence = 0;
const REVERSED = Symbol.for('wharf.hook.reversed');

/** True for a hook whose latest-registered tap runs first (`lifecycle.close`). */
export function isReversed(hook: object): boolean {
  return (hook as Record<symbol, unknown>)[REVERSED] === true;
}

/** Adds the kernel interceptor to `hook` and returns it. */
export function instrument<H extends InstrumentableHook>(name: string, hook: H, options: InstrumentOptions = {}): H {
  const { logger, reverse = false } = options;
  hook.intercept({
    name: 'wharf-kernel',
    register(tap) {
      logger?.debug({ hook: name, plugin: tap.name, type: tap.type }, 'hook tapped');
      // tapable orders by stage, then insertion: a falling stage puts later taps first.
      const stage = reverse ? (tap.stage ?? 0) * 1e9 - ++sequence : tap.stage;
      return { ...tap, ...(stage === undefined ? {} : { stage }), fn: wrap(tap, name, logger) };
    },
  });
  // tapable counts interceptors as "used"; with the kernel's interceptor on every hook that
  // would always be true. Callers ask "did anyone tap this?", so answer that.
  Object.defineProperty(hook, 'isUsed', { value: () => hook.taps.length > 0, configurable: true });
  if (reverse) Object.defineProperty(hook, REVERSED, { value: true });
  return hook;
}
