#!/usr/bin/env node
// Blob I/O and fsync run on libuv's thread pool; its default of 4 threads lets a few fsyncs of
// concurrent pushes stall every pull. The size must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { runCli } = await import('../dist/cli/main.js');
const { authDbPlugin } = await import('@wharf/plugin-auth-db');
const { rbacProjectsPlugin } = await import('@wharf/plugin-rbac-projects');
await runCli(process.argv, { plugins: [authDbPlugin, rbacProjectsPlugin] });
