import { X509Certificate } from 'node:crypto';
import {
  ApiError,
  eventContextOf,
  managementEvent,
  Type,
  type ApiAction,
  type ApiRequest,
  type DatabaseService,
  type EventService,
  type ManagementApi,
  type Static,
  type WebhookTargetRegistry,
} from '@wharf/sdk';
import type { Delivery, DeliveryStore } from './delivery-store.js';
import { EVENT_KINDS, EVENT_TYPE_NAMES, TEST_EVENT } from './event-kinds.js';
import { storedEvent } from './fanout.js';
import type { Policy, PolicyInput, PolicyStore, StoredTarget } from './policy-store.js';
import type { SecretBox } from './secret-box.js';
import { newSigningSecret } from './signing.js';
import { AUTH_CONTEXT, SECRET_CONTEXT } from './worker.js';

/**
 * `/api/v1/projects/{project_name}/webhook/...`: policies (Harbor's field names), their
 * delivery history, a test delivery, and the event types on offer. Project Admins and
 * Maintainers manage policies (resource `notification-policy`); system administrators too.
 */

export interface ApiDeps {
  readonly database: DatabaseService;
  readonly events: EventService;
  readonly policies: PolicyStore;
  readonly deliveries: DeliveryStore;
  readonly targets: WebhookTargetRegistry;
  readonly box: SecretBox;
  readonly wake: () => void;
}

const policyEvents = {
  created: managementEvent('webhook-policy', 'created'),
  updated: managementEvent('webhook-policy', 'updated'),
  deleted: managementEvent('webhook-policy', 'deleted'),
};

const TargetBody = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 32, description: 'A registered target kind: `http`, `slack`, or one a target plugin adds.' }),
    address: Type.String({ minLength: 1, maxLength: 2048 }),
    auth_header: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()], { description: 'Sent as `Authorization`; stored encrypted, never shown again. On update: omit to keep, null to remove.' })),
    skip_cert_verify: Type.Optional(Type.Boolean({ default: false })),
    ca_cert_pem: Type.Optional(Type.Union([Type.String({ maxLength: 65_536 }), Type.Null()], { description: 'Extra CA certificate(s), PEM, to trust for this receiver.' })),
    payload_format: Type.Optional(Type.Union([Type.Literal('Default'), Type.Literal('CloudEvents')], { default: 'Default' })),
  },
  { additionalProperties: false },
);

const PolicyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    event_types: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 32, uniqueItems: true }),
    targets: Type.Array(TargetBody, { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: false },
);
type PolicyBodyT = Static<typeof PolicyBody>;

const TargetView = Type.Object({
  type: Type.String(),
  address: Type.String(),
  has_auth_header: Type.Boolean(),
  skip_cert_verify: Type.Boolean(),
  ca_cert_pem: Type.Optional(Type.String()),
  payload_format: Type.String(),
});

const PolicyView = Type.Object(
  {
    id: Type.Integer(),
    project: Type.String(),
    name: Type.String(),
    description: Type.String(),
    enabled: Type.Boolean(),
    event_types: Type.Array(Type.String()),
    targets: Type.Array(TargetView),
    creator: Type.String(),
    creation_time: Type.String({ format: 'date-time' }),
    update_time: Type.String({ format: 'date-time' }),
  },
  { $id: 'WebhookPolicy' },
);

const PolicyCreated = Type.Object(
  {
    policy: PolicyView,
    secret: Type.String({ description: 'The signing secret, shown this once: verify `Webhook-Signature` with it.' }),
  },
  { $id: 'WebhookPolicyCreated' },
);

const DeliveryView = Type.Object(
  {
    id: Type.String({ description: 'The delivery id, sent as `Webhook-Id`.' }),
    event_type: Type.String(),
    event_id: Type.String(),
    target_type: Type.String(),
    address: Type.String(),
    status: Type.String({ description: 'pending, running, succeeded or failed' }),
    attempts: Type.Integer(),
    response_code: Type.Union([Type.Integer(), Type.Null()]),
    duration_ms: Type.Union([Type.Integer(), Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()]),
    next_attempt_time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    creation_time: Type.String({ format: 'date-time' }),
    update_time: Type.String({ format: 'date-time' }),
  },
  { $id: 'WebhookDelivery' },
);

const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }) });
const PolicyParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }), webhook_policy_id: Type.Integer({ minimum: 1 }) });
const BASE = '/projects/{project_name}/webhook';

type Req = ApiRequest<unknown, unknown, unknown>;
const project = (req: Req) => String((req.params as Record<string, unknown>)['project_name']);
const policyId = (req: Req) => (req.params as Record<string, number>)['webhook_policy_id'] as number;
const access = (req: Req, action: ApiAction) => ({ resource: { type: 'project' as const, name: project(req), resource: 'notification-policy' }, action });

function policyView(policy: Policy) {
  return {
    id: policy.id,
    project: policy.project,
    name: policy.name,
    description: policy.description,
    enabled: policy.enabled,
    event_types: [...policy.eventTypes],
    targets: policy.targets.map((t) => ({
      type: t.type,
      address: t.address,
      has_auth_header: t.authHeaderSealed !== undefined,
      skip_cert_verify: t.skipCertVerify,
      ...(t.caCertPem ? { ca_cert_pem: t.caCertPem } : {}),
      payload_format: t.payloadFormat,
    })),
    creator: policy.creator,
    creation_time: new Date(policy.createdAt).toISOString(),
    update_time: new Date(policy.updatedAt).toISOString(),
  };
}

function deliveryView(d: Delivery) {
  return {
    id: d.id,
    event_type: d.eventType,
    event_id: d.eventId,
    target_type: d.targetType,
    address: d.address,
    status: d.status,
    attempts: d.attempts,
    response_code: d.responseCode ?? null,
    duration_ms: d.durationMs ?? null,
    last_error: d.lastError ?? null,
    next_attempt_time: d.status === 'pending' ? new Date(d.nextAttemptAt).toISOString() : null,
    creation_time: new Date(d.createdAt).toISOString(),
    update_time: new Date(d.updatedAt).toISOString(),
  };
}

/** Checks a body and turns it into stored form (auth headers sealed); `previous` keeps omitted auth headers. */
function toInput(deps: ApiDeps, body: PolicyBodyT, previous?: Policy): PolicyInput {
  for (const type of body.event_types) {
    if (!EVENT_TYPE_NAMES.includes(type)) throw new ApiError('BAD_REQUEST', `unknown event type "${type.slice(0, 64)}" (known: ${EVENT_TYPE_NAMES.join(', ')})`);
  }
  const targets = body.targets.map((t, i): StoredTarget => {
    const kind = deps.targets.get(t.type);
    if (!kind) throw new ApiError('BAD_REQUEST', `targets[${i}].type "${t.type}" is not a webhook target kind here (known: ${deps.targets.types().join(', ')})`);
    if (t.ca_cert_pem) {
      try {
        new X509Certificate(t.ca_cert_pem);
      } catch {
        throw new ApiError('BAD_REQUEST', `targets[${i}].ca_cert_pem is not a PEM certificate`);
      }
    }
    const kept = previous?.targets[i]?.type === t.type && previous.targets[i]?.address === t.address ? previous.targets[i]?.authHeaderSealed : undefined;
    const authHeaderSealed = t.auth_header === undefined ? kept : t.auth_header === null || t.auth_header === '' ? undefined : deps.box.seal(t.auth_header, AUTH_CONTEXT);
    const target: StoredTarget = {
      type: t.type,
      address: t.address,
      ...(authHeaderSealed ? { authHeaderSealed } : {}),
      skipCertVerify: t.skip_cert_verify ?? false,
      ...(t.ca_cert_pem ? { caCertPem: t.ca_cert_pem } : {}),
      payloadFormat: t.payload_format ?? 'Default',
    };
    const problem = kind.validate?.({ ...target, authHeader: undefined, caCertPem: target.caCertPem });
    if (problem) throw new ApiError('BAD_REQUEST', `targets[${i}]: ${problem}`);
    return target;
  });
  return { name: body.name, description: body.description ?? '', enabled: body.enabled ?? true, eventTypes: body.event_types, targets };
}

export function registerWebhooksApi(api: ManagementApi, deps: ApiDeps): void {
  const tag = 'webhooks';
  const { policies, database, events } = deps;
  const record = (req: Req, type: typeof policyEvents.created, policy: Policy, changes?: Record<string, unknown>) =>
    events.publish({
      type,
      partition: `project:${policy.project}`,
      data: { resource: 'webhook-policy', id: String(policy.id), project: policy.project, ...(changes ? { changes } : {}) },
      ...eventContextOf(req.principal, req.request),
    });
  const requirePolicy = async (req: Req) => {
    const found = await policies.get(project(req), policyId(req));
    if (!found) throw new ApiError('NOT_FOUND', `webhook policy ${policyId(req)} not found in project ${project(req)}`);
    return found;
  };
  const duplicate = (name: string) => new ApiError('CONFLICT', `a webhook policy named "${name.slice(0, 255)}" exists in this project`);

  api.operation({
    operationId: 'listWebhookPolicies',
    method: 'GET',
    path: `${BASE}/policies`,
    tag,
    summary: "List a project's webhook policies",
    list: true,
    params: ProjectParams,
    response: PolicyView,
    filters: ['name'],
    async handler(req) {
      await req.authorize(access(req, 'list'));
      const page = await policies.list(project(req), { page: req.page.page, pageSize: req.page.pageSize }, req.page.filters['name']?.value);
      return { items: page.items.map(policyView), total: page.total };
    },
  });

  api.operation({
    operationId: 'createWebhookPolicy',
    method: 'POST',
    path: `${BASE}/policies`,
    tag,
    summary: 'Create a webhook policy; the answer holds its signing secret, once',
    description: `Event types: ${EVENT_KINDS.map((k) => `${k.harborType} (${k.description})`).join('; ')}.`,
    params: ProjectParams,
    body: PolicyBody,
    response: PolicyCreated,
    status: 201,
    async handler(req) {
      await req.authorize(access(req, 'create'));
      const input = toInput(deps, req.body);
      const secret = newSigningSecret();
      let created: Policy;
      try {
        created = await database.transaction(async () => {
          const p = await policies.create(project(req), input, deps.box.seal(secret, SECRET_CONTEXT), req.principal.subject);
          await record(req, policyEvents.created, p);
          return p;
        });
      } catch (err) {
        if (database.isUniqueViolation(err)) throw duplicate(input.name);
        throw err;
      }
      req.setHeader('Location', `/api/v1/projects/${encodeURIComponent(created.project)}/webhook/policies/${created.id}`);
      req.logger.info({ project: created.project, policy: created.id, by: req.principal.subject }, 'webhook policy created');
      return { policy: policyView(created), secret };
    },
  });

  api.operation({
    operationId: 'getWebhookPolicy',
    method: 'GET',
    path: `${BASE}/policies/{webhook_policy_id}`,
    tag,
    summary: 'Get a webhook policy',
    params: PolicyParams,
    response: PolicyView,
    async handler(req) {
      await req.authorize(access(req, 'read'));
      return policyView(await requirePolicy(req));
    },
  });

  api.operation({
    operationId: 'updateWebhookPolicy',
    method: 'PUT',
    path: `${BASE}/policies/{webhook_policy_id}`,
    tag,
    summary: 'Replace a webhook policy (its secret stays; an omitted auth_header of an unchanged target stays)',
    params: PolicyParams,
    body: PolicyBody,
    response: PolicyView,
    async handler(req) {
      await req.authorize(access(req, 'update'));
      const previous = await requirePolicy(req);
      const input = toInput(deps, req.body, previous);
      try {
        const updated = await database.transaction(async () => {
          const p = await policies.update(project(req), previous.id, input);
          if (p) await record(req, policyEvents.updated, p, { name: p.name, enabled: p.enabled, event_types: p.eventTypes, targets: p.targets.length });
          return p;
        });
        if (!updated) throw new ApiError('NOT_FOUND', `webhook policy ${previous.id} not found in project ${previous.project}`);
        return policyView(updated);
      } catch (err) {
        if (database.isUniqueViolation(err)) throw duplicate(input.name);
        throw err;
      }
    },
  });

  api.operation({
    operationId: 'deleteWebhookPolicy',
    method: 'DELETE',
    path: `${BASE}/policies/{webhook_policy_id}`,
    tag,
    summary: 'Delete a webhook policy and its delivery history',
    params: PolicyParams,
    async handler(req) {
      await req.authorize(access(req, 'delete'));
      const policy = await requirePolicy(req);
      await database.transaction(async () => {
        if (await policies.remove(policy.project, policy.id)) await record(req, policyEvents.deleted, policy);
      });
      return undefined;
    },
  });

  api.operation({
    operationId: 'testWebhookPolicy',
    method: 'POST',
    path: `${BASE}/policies/{webhook_policy_id}/test`,
    tag,
    summary: 'Queue a TEST_WEBHOOK event to every target of the policy (even a disabled one)',
    params: PolicyParams,
    response: Type.Object({ deliveries: Type.Array(Type.String()) }),
    status: 202,
    async handler(req) {
      await req.authorize(access(req, 'update'));
      const policy = await requirePolicy(req);
      const eventId = `test-${req.requestId}-${Date.now()}`.slice(0, 64);
      const envelope = { id: eventId, seq: 0, type: 'webhooks.test', occurredAt: new Date(), partition: '', actor: eventContextOf(req.principal).actor, request: { requestId: req.requestId, ip: req.request.ip }, data: {} };
      const event = storedEvent(envelope, policy, TEST_EVENT.harborType, TEST_EVENT.cloudEventType, { custom_attributes: { message: `test delivery of webhook policy ${policy.name}` } });
      const ids = await database.transaction(() => deps.deliveries.enqueue(policy.targets.map((target, targetIndex) => ({ policyId: policy.id, eventId, targetIndex, target, event }))));
      deps.wake();
      return { deliveries: ids };
    },
  });

  api.operation({
    operationId: 'listWebhookDeliveries',
    method: 'GET',
    path: `${BASE}/policies/{webhook_policy_id}/deliveries`,
    tag,
    summary: "A policy's delivery history, newest first (q=status=failed to filter)",
    list: true,
    params: PolicyParams,
    response: DeliveryView,
    filters: ['status'],
    async handler(req) {
      await req.authorize(access(req, 'read'));
      const policy = await requirePolicy(req);
      const page = await deps.deliveries.list(policy.id, { page: req.page.page, pageSize: req.page.pageSize }, req.page.filters['status']?.value);
      return { items: page.items.map(deliveryView), total: page.total };
    },
  });

  api.operation({
    operationId: 'listWebhookEventTypes',
    method: 'GET',
    path: `${BASE}/events`,
    tag,
    summary: 'The event types, target kinds and payload formats policies may use',
    params: ProjectParams,
    response: Type.Object({ event_type: Type.Array(Type.String()), notify_type: Type.Array(Type.String()), payload_formats: Type.Array(Type.String()) }),
    async handler(req) {
      await req.authorize(access(req, 'read'));
      return { event_type: [...EVENT_TYPE_NAMES], notify_type: deps.targets.types(), payload_formats: ['Default', 'CloudEvents'] };
    },
  });
}
