#!/usr/bin/env node
// Event-to-handler latency and sustained delivery rate of the durable events, in one process:
// a kernel on SQLite (or DATABASE_URL: postgres://... / mysql://...) with one consumer.
//   latency: EVENTS_LATENCY events published one at a time, each awaited by its handler;
//            p50 and p99 of publish-start -> handler-start.
//   rate:    EVENTS_RATE events published in batches of 100 by 4 publishers, with a consumer
//            that does nothing (concurrency 8 over 64 partitions); events/s until all delivered.
// Prints one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createKernel, loadConfig } from '@wharf/core';
import { defineEventType, definePlugin, Type } from '@wharf/sdk';

const LATENCY = Number(process.env.EVENTS_LATENCY ?? 500);
const RATE = Number(process.env.EVENTS_RATE ?? 20000);
const benchEvent = defineEventType('bench.event.happened');

const waiting = new Map();
let delivered = 0;
const plugin = definePlugin({
  id: 'bench-events', kind: 'extension', version: '0.0.0', kernel: '>=0.1.0', configSchema: Type.Object({}),
  register(ctx) {
    ctx.events.subscribe({
      name: 'bench-latency', types: [benchEvent], concurrency: 8,
      handle: async ({ event }) => {
        delivered++;
        const done = waiting.get(event.data.i);
        if (done) { waiting.delete(event.data.i); done(performance.now()); }
      },
    });
  },
});

const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-bench-events-'));
const url = process.env.DATABASE_URL;
const database = url ? { client: url.startsWith('mysql') ? 'mysql' : 'postgres', connection: url } : { client: 'sqlite', filename: path.join(dir, 'wharf.db') };
const config = {
  dataDir: dir, database, auth: [], rbac: {}, token: { enabled: false }, log: { level: 'warn' },
  events: { pollIntervalMs: 500 }, extensions: { 'bench-events': {} },
};
const kernel = createKernel(await loadConfig({ config, env: {}, plugins: [plugin] }), { logDestination: new PassThrough() });
await kernel.boot();
const events = kernel.events.service;

try {
  // Latency, one event at a time (the handler wakes the node's loop at once after commit).
  const samples = [];
  for (let i = 0; i < LATENCY; i++) {
    const handled = new Promise((resolve) => waiting.set(i, resolve));
    const t0 = performance.now();
    await events.publish({ type: benchEvent, partition: `p${i % 64}`, data: { i } });
    samples.push((await handled) - t0);
  }
  samples.sort((a, b) => a - b);
  const pct = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];

  // Sustained rate.
  const start = delivered;
  const t0 = performance.now();
  let next = LATENCY;
  const publisher = async () => {
    while (next < LATENCY + RATE) {
      const batch = [];
      for (let k = 0; k < 100 && next < LATENCY + RATE; k++, next++) batch.push({ type: benchEvent, partition: `p${next % 64}`, data: { i: -1 } });
      await events.publish(batch);
    }
  };
  await Promise.all([publisher(), publisher(), publisher(), publisher()]);
  const published = performance.now() - t0;
  while (delivered - start < RATE) await new Promise((r) => setTimeout(r, 20));
  const total = performance.now() - t0;
  console.log(JSON.stringify({
    database: database.client,
    latencyMs: { events: LATENCY, p50: +pct(50).toFixed(2), p99: +pct(99).toFixed(2), max: +samples[samples.length - 1].toFixed(2) },
    rate: { events: RATE, publishedPerSec: Math.round(RATE / (published / 1000)), deliveredPerSec: Math.round(RATE / (total / 1000)) },
  }));
} finally {
  await kernel.close();
  await rm(dir, { recursive: true, force: true });
}
