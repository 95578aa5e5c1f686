import { KernelError, type EventConsumer, type EventType } from '@wharf/sdk';

/**
 * The durable consumers every node knows (declared during register, identical on every node)
 * and which of them receive a given event type. Matching is done once per type and cached:
 * publishing sits on the push path.
 */

const CONSUMER_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_CONSUMER_NAME = 100;

/** A consumer with its settings resolved. */
export interface Subscription {
  readonly consumer: EventConsumer;
  readonly name: string;
  readonly patterns: readonly string[];
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export class Subscriptions {
  readonly #byName = new Map<string, Subscription>();
  readonly #byType = new Map<string, readonly string[]>();
  #sealed = false;

  constructor(private readonly defaults: { readonly maxAttempts: number }) {}

  add(consumer: EventConsumer): void {
    if (this.#sealed) throw new KernelError('REG_ERR_PLUGIN_SEALED', `event consumer "${String(consumer?.name)}" subscribed after the kernel booted; subscribe during register`);
    const name = consumer?.name;
    if (typeof name !== 'string' || !CONSUMER_NAME.test(name) || name.length > MAX_CONSUMER_NAME) {
      throw new KernelError('REG_ERR_EVENTS_CONSUMER', `event consumer name must be kebab-case (at most ${MAX_CONSUMER_NAME} characters), got "${String(name)}"`);
    }
    if (consumer.deps && Object.keys(consumer.deps).length > 0) {
      // A plugin's context resolves them; a consumer handed here directly would get none.
      throw new KernelError('REG_ERR_EVENTS_CONSUMER', `event consumer "${name}" declares deps; subscribe it through the plugin context (ctx.events.subscribe)`);
    }
    if (this.#byName.has(name)) throw new KernelError('REG_ERR_EVENTS_CONSUMER', `event consumer "${name}" is subscribed twice`);
    if (typeof consumer.handle !== 'function') throw new KernelError('REG_ERR_EVENTS_CONSUMER', `event consumer "${name}" has no handle function`);
    if (consumer.handleBatch !== undefined && typeof consumer.handleBatch !== 'function') {
      throw new KernelError('REG_ERR_EVENTS_CONSUMER', `event consumer "${name}": handleBatch must be a function`);
    }
    const patterns = (consumer.types ?? []).map((t) => (typeof t === 'string' ? t : (t as EventType<unknown>).name));
    if (patterns.length === 0 || patterns.some((p) => typeof p !== 'string' || p === '')) {
      throw new KernelError('REG_ERR_EVENTS_CONSUMER', `event consumer "${name}" must name at least one event type`);
    }
    const positive = (value: number | undefined, fallback: number, what: string): number => {
      if (value === undefined) return fallback;
      if (!Number.isInteger(value) || value < 1) throw new KernelError('REG_ERR_EVENTS_CONSUMER', `event consumer "${name}": ${what} must be a positive integer`);
      return value;
    };
    this.#byName.set(name, {
      consumer,
      name,
      patterns,
      concurrency: positive(consumer.concurrency, 4, 'concurrency'),
      maxAttempts: positive(consumer.maxAttempts, this.defaults.maxAttempts, 'maxAttempts'),
      backoffMs: positive(consumer.backoffMs, 1000, 'backoffMs'),
      maxBackoffMs: positive(consumer.maxBackoffMs, 300_000, 'maxBackoffMs'),
    });
    this.#byType.clear();
  }

  /** No consumer may be added once the kernel is ready (every node must agree on the set). */
  seal(): void {
    this.#sealed = true;
  }

  get(name: string): Subscription | undefined {
    return this.#byName.get(name);
  }

  all(): Subscription[] {
    return [...this.#byName.values()];
  }

  /** Names of the consumers that receive events of `type`. */
  consumersOf(type: string): readonly string[] {
    let names = this.#byType.get(type);
    if (!names) {
      names = this.all().filter((s) => s.patterns.some((p) => matches(p, type))).map((s) => s.name);
      this.#byType.set(type, names);
    }
    return names;
  }
}

/** `*` is every type; `a.*` is every type below `a.`; anything else is an exact name. */
export function matches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
