// A plugin for the events benchmarks: one durable consumer of every registry event that does
// nothing, so what is measured is the kernel's recording and delivery, not a handler.
import { definePlugin, Type } from '@wharf/sdk';

export default definePlugin({
  id: 'bench-event-sink',
  kind: 'extension',
  version: '0.0.0',
  kernel: '>=0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.events.subscribe({ name: 'bench-sink', types: ['registry.*'], concurrency: 8, handle: async () => undefined });
  },
});
