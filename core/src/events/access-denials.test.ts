import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { EventDraft, EventService, Principal } from '@wharf/sdk';
import { accessDenialRecorder, type AccessDenial } from './access-denials.js';

/**
 * The aggregation of refused access, as a unit (the HTTP path and the audit entries are covered
 * by plugins/logging-audit/src/api/denied.test.ts on each database): first refusal at once, the
 * rest counted into one event per key and window, keys bounded by an overflow event, and what
 * is counted recorded at close.
 */

function recorder(maxKeys: number) {
  const published: EventDraft<unknown>[] = [];
  const events = {
    hasSubscribers: () => true,
    publish: async (e: EventDraft<unknown> | ReadonlyArray<EventDraft<unknown>>) => void published.push(...(Array.isArray(e) ? e : [e as EventDraft<unknown>])),
  } as unknown as EventService;
  return { published, record: accessDenialRecorder(() => events, { windowSeconds: 3600, maxKeys }, pino({ level: 'silent' })) };
}

const bob: Principal = { subject: 'bob', kind: 'user', provider: 'db', groups: [], admin: false };
const denial = (ip: string, operation = 'GET /api/v1/audit-logs', principal: Principal | undefined = bob): AccessDenial => ({
  principal, info: { requestId: `r-${ip}`, ip, userAgent: undefined }, operation, resource: '/api/v1/audit-logs', status: 403, via: 'api',
});
const data = (e: EventDraft<unknown>) => e.data as { count: number; aggregated: boolean; operation: string };

describe('refused access aggregation', () => {
  it('records the first refusal of a key at once and the rest as one counted event when the window ends', async () => {
    const { published, record } = recorder(100);
    for (let i = 0; i < 50; i++) record(denial('192.0.2.1'));
    record(denial('192.0.2.2'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(published.map((e) => [e.request?.ip, data(e).count, data(e).aggregated]), [['192.0.2.1', 1, false], ['192.0.2.2', 1, false]]);
    await record.close();
    assert.deepEqual(published.slice(2).map((e) => [e.request?.ip, data(e).count, data(e).aggregated]), [['192.0.2.1', 49, true]]);
    assert.equal(published[0]!.actor?.subject, 'bob');
  });

  it('bounds the keys of a window: past maxKeys, refusals share one overflow event', async () => {
    const { published, record } = recorder(3);
    for (let i = 0; i < 1000; i++) record(denial(`198.51.100.${i % 250}`, `GET /api/v1/x${i}`, undefined));
    await record.close();
    assert.equal(published.length, 4, '3 keys, then one overflow summary');
    const overflow = published.at(-1)!;
    assert.deepEqual([overflow.request?.ip, data(overflow).operation, data(overflow).count], ['*', '*', 997]);
    assert.equal(overflow.actor, undefined);
  });
});
