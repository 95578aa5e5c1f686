import type { WebhookTargetKind, WebhookTargetRegistry } from '@wharf/sdk';
import { httpTarget } from './http.js';
import { DEFAULT_DENIED_NETWORKS, NetworkGuard } from './network-guard.js';
import { slackTarget } from './slack.js';

const TYPE = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The target kinds of this node: `http` and `slack` (which never connect to what `guard` denies),
 * and whatever target plugins register (their own network calls are theirs).
 */
export function createTargetRegistry(guard = new NetworkGuard(DEFAULT_DENIED_NETWORKS)): WebhookTargetRegistry {
  const kinds = new Map<string, WebhookTargetKind>();
  const registry: WebhookTargetRegistry = {
    register(kind) {
      if (!kind || typeof kind.type !== 'string' || !TYPE.test(kind.type)) throw new TypeError(`webhook target kind type must be kebab-case, got "${String(kind?.type)}"`);
      if (typeof kind.deliver !== 'function') throw new TypeError(`webhook target kind "${kind.type}" lacks deliver()`);
      if (kinds.has(kind.type)) throw new TypeError(`webhook target kind "${kind.type}" is registered already`);
      kinds.set(kind.type, kind);
    },
    get: (type) => kinds.get(type),
    types: () => [...kinds.keys()].sort(),
  };
  registry.register(httpTarget(guard));
  registry.register(slackTarget(guard));
  return registry;
}
