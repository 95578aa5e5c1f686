#!/usr/bin/env node
// Blob I/O and fsync run on libuv's thread pool; its default of 4 threads lets a few fsyncs of
// concurrent pushes stall every pull. The size must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '16';
// Blob streams allocate buffers outside the JavaScript heap at hundreds of MiB/s; V8 counts them
// against a heap limit that it sets just above the (small) live heap, and ran a full collection
// every 60 ms during a proxy-cache download (ADR 0040). A heap may grow to four times what was
// live before the next full collection. Set before the heap grows; NODE_OPTIONS can override.
if (!/--heap-growing-percent/.test(process.env.NODE_OPTIONS ?? '') && !process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--heap-growing-percent=300');
}
const { main } = await import('../dist/index.js');
await main(process.argv);
