import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metricsPlugin, metricsServiceRef } from '@wharf/plugin-metrics';
import { startTestRegistry, type TestRegistry } from '@wharf/sdk-testing';
import { coreServices } from '@wharf/sdk';
import { webhooksPlugin } from './index.js';
import { webhooksServiceRef } from './services.js';
import { createPolicy } from './test-support.js';

// The webhook backlog in /metrics: events queued and not yet deliveries (stuck ones too), and deliveries by status.

describe('webhook metrics (with the metrics plugin)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({
      plugins: [metricsPlugin, webhooksPlugin],
      // A worker that looks only when woken: the queued event below stays queued.
      config: { extensions: { webhooks: { delivery: { pollIntervalMs: 60_000 } } } },
    });
  });
  after(async () => {
    await registry?.close();
  });

  it('shows queued events and deliveries by status', async () => {
    const svc = registry.get(webhooksServiceRef);
    const { policy } = await createPolicy(svc, 'metered', { targets: [{ address: 'http://127.0.0.1:9/m' }] });
    await svc.worker.whenIdle();
    const event = { payload: { type: 'PUSH_ARTIFACT', occur_at: 1, operator: 't', event_data: {} }, cloudEventType: 'harbor.artifact.pushed', requestId: undefined };
    await svc.queue.add([{ eventId: 'metered-1', event, policies: [{ id: policy.id, project: 'metered', name: policy.name, targets: policy.targets }] }]);
    // And one that failed on its own and was set aside (see fanout-queue.ts).
    const knex = registry.get(coreServices.database).knex;
    await knex('webhooks_fanouts').insert({ event_id: 'metered-stuck', event: '{}', policies: '[]', created_at: 1, attempts: 10, next_try_at: Number.MAX_SAFE_INTEGER });
    await svc.deliveries.enqueue([{ policyId: policy.id, eventId: 'metered-0', targetIndex: 0, target: policy.targets[0]!, event: { ...event, source: 's', policyName: policy.name } }], Date.now() + 3_600_000);
    const text = await registry.get(metricsServiceRef).registry.metrics();
    assert.match(text, /^wharf_webhooks_queued_events 2$/m);
    assert.match(text, /^wharf_webhooks_stuck_events\{state="set_aside"\} 1$/m);
    assert.match(text, /^wharf_webhooks_stuck_events\{state="waiting"\} 0$/m);
    assert.match(text, /^wharf_webhooks_deliveries\{status="pending"\} 1$/m);
  });
});
