#!/usr/bin/env node
// Blob I/O and fsync run on libuv's thread pool; its default of 4 threads lets a few fsyncs of
// concurrent pushes stall every pull. The size must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { main } = await import('../dist/index.js');
await main(process.argv);
