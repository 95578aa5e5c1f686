import { asFunction, createContainer, InjectionMode, type AwilixContainer } from 'awilix';
import { KernelError, type ServiceDeps, type ServiceFactory, type ServiceRef } from '@wharf/sdk';

/**
 * The awilix container behind the typed service refs. Nobody else sees it, the kernel included:
 * services are provided through `provide(ref, ...)` and resolved by ref, never by a string name.
 * Every service is a singleton (built at boot, disposed at close).
 */

/** `core.storage` -> `coreStorage`, `acme-x.token-signer` -> `acmeXTokenSigner` (stable). */
export function serviceName(refId: string): string {
  const parts = refId.split(/[.-]/).filter((p) => p.length > 0);
  return parts.map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('');
}

interface Provided {
  readonly ref: ServiceRef<unknown>;
  readonly name: string;
  readonly provider: string;
  readonly deps: Readonly<Record<string, ServiceRef<unknown>>>;
}

export class ServiceRegistry {
  readonly #container: AwilixContainer = createContainer({ strict: true, injectionMode: InjectionMode.PROXY });
  private readonly provided = new Map<string, Provided>();
  private readonly byName = new Map<string, string>();
  private readonly decorators = new Map<string, (service: unknown) => unknown>();

  /**
   * Kernel only: consumers of `ref` get `decorate(service)` instead of what the provider built
   * (the kernel times the storage driver this way). The provider's disposer still gets its own
   * instance. Call before the service is built.
   */
  decorate<T>(ref: ServiceRef<T>, decorate: (service: T) => T): void {
    this.decorators.set(ref.id, decorate as (service: unknown) => unknown);
  }

  /** Binds a service ref to a factory on behalf of `provider` (a plugin id or `kernel`). */
  provide<T, D extends ServiceDeps>(provider: string, ref: ServiceRef<T>, spec: ServiceFactory<T, D>): void {
    if (!ref || ref.$$type !== 'wharf/ServiceRef') {
      throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${provider}" called provide() without a service ref`, { plugin: provider });
    }
    if (!spec || typeof spec.factory !== 'function') {
      throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${provider}" provides ${ref.id} without a factory`, { plugin: provider });
    }
    const prior = this.provided.get(ref.id);
    if (prior) {
      throw new KernelError(
        'REG_ERR_SERVICE_DUPLICATE',
        `service ${ref.id} is provided twice: by "${prior.provider}" and by "${provider}"`,
        { plugin: provider },
      );
    }
    const name = serviceName(ref.id);
    const clash = this.byName.get(name);
    if (clash !== undefined || this.#container.hasRegistration(name)) {
      throw new KernelError('REG_ERR_SERVICE_DUPLICATE', `service ${ref.id} (from "${provider}") collides with ${clash ?? name}`, { plugin: provider });
    }
    const deps: Record<string, ServiceRef<unknown>> = { ...(spec.deps ?? {}) };
    const entry: Provided = { ref: ref as ServiceRef<unknown>, name, provider, deps };
    this.provided.set(ref.id, entry);
    this.byName.set(name, ref.id);

    let built: T | undefined;
    const build = (cradle: Record<string, unknown>) => {
      const resolved: Record<string, unknown> = {};
      for (const [key, dep] of Object.entries(deps)) resolved[key] = cradle[serviceName(dep.id)];
      built = spec.factory(resolved as never);
      const decorate = this.decorators.get(ref.id);
      return decorate ? decorate(built) : built;
    };
    let resolver = asFunction(build).singleton();
    if (spec.dispose) {
      const dispose = spec.dispose;
      resolver = resolver.disposer(() => dispose(built as T));
    }
    this.#container.register(name, resolver);
  }

  /** Who provides a ref, if anyone. */
  providerOf(ref: ServiceRef<unknown> | string): string | undefined {
    return this.provided.get(typeof ref === 'string' ? ref : ref.id)?.provider;
  }

  /** Refs provided so far, with their providers. */
  list(): { id: string; provider: string }[] {
    return [...this.provided.values()].map((p) => ({ id: p.ref.id, provider: p.provider }));
  }

  /** Every dependency is provided. */
  checkDependencies(): void {
    for (const p of this.provided.values()) {
      for (const [key, dep] of Object.entries(p.deps)) {
        const target = this.provided.get(dep.id);
        if (!target) {
          throw new KernelError(
            'REG_ERR_SERVICE_MISSING',
            `plugin "${p.provider}" provides ${p.ref.id}, which needs ${dep.id} (as "${key}"), but no plugin provides ${dep.id}`,
            { plugin: p.provider },
          );
        }
      }
    }
  }

  /** Builds every singleton now, so a broken factory fails the boot, not the first request. */
  resolveSingletons(): void {
    for (const p of this.provided.values()) {
      try {
        this.#container.resolve(p.name);
      } catch (err) {
        throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${p.provider}": building service ${p.ref.id} failed: ${(err as Error).message}`, {
          plugin: p.provider,
          cause: err,
        });
      }
    }
  }

  /** Resolves a service by ref (kernel use). */
  resolve<T>(ref: ServiceRef<T>): T {
    return this.#container.resolve<T>(serviceName(ref.id));
  }

  dispose(): Promise<void> {
    return this.#container.dispose();
  }
}
