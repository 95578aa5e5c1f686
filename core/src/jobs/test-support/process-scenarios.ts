import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, it } from 'node:test';
import type { JobsSettings } from '../../config/types.js';
import type { DatabaseConfig } from '../../metadata/types.js';
import { ChildNode } from './process-harness.js';
import type { JobRuntime } from '../types.js';
import { testSettings, waitFor } from './index.js';

/**
 * Process-level guarantees, with real child processes sharing one database or one Redis:
 * a node killed with SIGKILL mid-job loses nothing, and a cron schedule fires once per tick
 * whatever the number of nodes.
 */

export interface ProcessTarget {
  /** Settings and database the children use (a fresh namespace per call). */
  prepare(): Promise<{ settings: Partial<JobsSettings>; database?: DatabaseConfig }>;
  /** A node in this process (not started) to enqueue and read jobs. */
  client(settings: JobsSettings, database?: DatabaseConfig): JobRuntime;
  /** The tick time (epoch ms) each fired job of schedule `name` stands for. */
  ticks(name: string, client: JobRuntime, ranIds: string[]): Promise<number[]>;
}

export function processScenarios(target: () => ProcessTarget): void {
  const children: ChildNode[] = [];
  const clients: JobRuntime[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  async function setup(overrides: Partial<JobsSettings>) {
    const t = target();
    const prepared = await t.prepare();
    const settings = testSettings({ ...prepared.settings, ...overrides, redis: { ...testSettings().redis, ...prepared.settings.redis } });
    const spawnNode = (node: string, schedule?: string) => {
      const child = new ChildNode({ settings, ...(prepared.database ? { database: prepared.database } : {}), node, ...(schedule ? { schedule } : {}) });
      children.push(child);
      return child;
    };
    const client = t.client(settings, prepared.database);
    clients.push(client);
    return { t, spawnNode, client };
  }

  it('finishes the job of a node killed with SIGKILL mid-run on another node (short lease)', async () => {
    const { spawnNode, client } = await setup({ leaseSeconds: 1 });
    const a = spawnNode('a');
    await a.waitEvent((e) => e.event === 'ready', 'node a ready');
    const id = await client.enqueue('slow', { n: 1 });
    await a.waitEvent((e) => e.event === 'started' && e.id === id, 'node a started the job');
    assert.equal((await client.get(id))?.status, 'running');
    await a.kill9();
    const killedAt = Date.now();
    const b = spawnNode('b');
    const done = await b.waitEvent((e) => e.event === 'done' && e.id === id, 'node b finished the job');
    assert.equal(done.attempt, 2);
    const took = Date.now() - killedAt;
    assert.ok(took < 8000, `taken over after ${took} ms`);
    const record = await waitFor('job succeeded', async () => {
      const r = await client.get(id);
      return r?.status === 'succeeded' ? r : undefined;
    });
    assert.equal(record.attempts, 2);
    assert.deepEqual((await client.log(id)).map((l) => l.message), ['attempt 1 on a', 'attempt 2 on b']);
  });

  it('fires a per-second cron schedule exactly once per tick across two processes', async () => {
    const { t, spawnNode, client } = await setup({});
    const name = 'every-second';
    const a = spawnNode('a', name);
    const b = spawnNode('b', name);
    await Promise.all([a.waitEvent((e) => e.event === 'ready', 'a ready'), b.waitEvent((e) => e.event === 'ready', 'b ready')]);
    await sleep(4500);
    await Promise.all([a.stop(), b.stop()]);
    const ran = [...a.events, ...b.events].filter((e) => e.event === 'ran').map((e) => e.id as string);
    assert.equal(new Set(ran).size, ran.length, `a job ran twice: ${ran.join(', ')}`);
    const ticks = (await t.ticks(name, client, ran)).sort((x, y) => x - y);
    assert.ok(ticks.length >= 3, `only ${ticks.length} ticks fired in 4.5 s`);
    assert.equal(new Set(ticks).size, ticks.length, 'one job per tick');
    for (let i = 1; i < ticks.length; i += 1) assert.equal((ticks[i] as number) - (ticks[i - 1] as number), 1000, `ticks ${ticks.join(', ')} skip or repeat one`);
    assert.ok(ran.length >= ticks.length - 1, `${ran.length} runs for ${ticks.length} ticks`);
  });
}
