import { CronExpressionParser } from 'cron-parser';
import { ApiError, type Static } from '@wharf/sdk';
import type { EndpointBody, PolicyBody } from './api-schemas.js';
import { compileSourceFilters } from './filters.js';
import { DestinationNameError, destinationRepository } from './flatten.js';
import type { EndpointInput, PolicyInput } from './model.js';
import type { ReplicationStore } from './store.js';

/** Checks the API's endpoint and policy bodies beyond their schemas, in the API's error terms. */

/** A registry base URL: http(s), no query or fragment, without a trailing `/` or `/v2`. */
export function normalizeRegistryUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('BAD_REQUEST', `url: "${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiError('BAD_REQUEST', 'url: only http and https registries are supported');
  if (url.search || url.hash) throw new ApiError('BAD_REQUEST', 'url: a registry URL has no query or fragment');
  if (url.username || url.password) throw new ApiError('BAD_REQUEST', 'url: put credentials in username and secret, not in the URL');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '').replace(/\/v2$/, '');
}

export function validateEndpoint(body: Static<typeof EndpointBody>, adapters: readonly string[]): EndpointInput {
  const type = body.type || 'oci';
  if (!adapters.includes(type)) {
    const known = adapters.length ? adapters.join(', ') : 'none: configure a replication plugin';
    throw new ApiError('BAD_REQUEST', `type: no replication adapter for "${type}" (available: ${known})`);
  }
  if (body.secret && !body.username) throw new ApiError('BAD_REQUEST', 'username: required with a secret');
  return {
    name: body.name, description: body.description, type, url: normalizeRegistryUrl(body.url), username: body.username || undefined,
    secret: body.secret, insecure: body.insecure ?? false, caCertificate: body.caCertificate || undefined,
  };
}

export async function validatePolicy(body: Static<typeof PolicyBody>, store: ReplicationStore): Promise<PolicyInput> {
  const endpoint = await store.getEndpointByName(body.endpoint);
  if (!endpoint) throw new ApiError('BAD_REQUEST', `endpoint: registry endpoint ${body.endpoint} not found`);
  const filters = { repositories: body.filters?.repositories ?? [], tags: body.filters?.tags ?? [] };
  const compiled = compileSourceFilters(filters);
  if (!compiled.ok) throw new ApiError('BAD_REQUEST', compiled.errors.join('; '));
  if (body.trigger === 'scheduled') {
    if (!body.cron) throw new ApiError('BAD_REQUEST', 'cron: required for a scheduled policy');
    try {
      CronExpressionParser.parse(body.cron);
    } catch (err) {
      throw new ApiError('BAD_REQUEST', `cron: "${body.cron}" is not a cron expression (${(err as Error).message})`);
    }
  } else if (body.cron) {
    throw new ApiError('BAD_REQUEST', 'cron: only scheduled policies have one');
  }
  if (body.trigger === 'event' && body.mode === 'pull') {
    throw new ApiError('BAD_REQUEST', 'trigger: event-based replication is for push policies (this registry\'s events)');
  }
  if (body.replicateDeletion && body.trigger !== 'event') {
    throw new ApiError('BAD_REQUEST', 'replicateDeletion: only event-based policies replicate deletions');
  }
  const flatten = body.flatten ?? 1;
  const namespace = body.destinationNamespace || undefined;
  try {
    destinationRepository('library/example', { namespace, flatten: 'none' });
  } catch (err) {
    if (err instanceof DestinationNameError) throw new ApiError('BAD_REQUEST', `destinationNamespace: ${err.message}`);
    throw err;
  }
  return {
    name: body.name, description: body.description ?? '', mode: body.mode, endpointId: endpoint.id, filters,
    destinationNamespace: namespace, flatten, trigger: body.trigger, cron: body.cron || undefined,
    replicateDeletion: body.replicateDeletion ?? false, override: body.override ?? true,
    bandwidthKbps: body.bandwidthKbps === undefined || body.bandwidthKbps === 0 ? -1 : body.bandwidthKbps,
    chunkSize: body.chunkSize ?? undefined, enabled: body.enabled ?? true,
  };
}
