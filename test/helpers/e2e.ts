import { test, type TestContext } from 'node:test';
import type { RegistryHandle } from './server.js';

/**
 * `test()` that, when the body fails, appends the tail of the registry's log to the error,
 * so a CI failure shows what the server said at the time.
 */
export function registryTest(
  name: string,
  server: () => RegistryHandle | undefined,
  fn: (t: TestContext) => Promise<void>,
  opts: { timeout?: number } = {},
): void {
  test(name, { timeout: opts.timeout ?? 180_000 }, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      const srv = server();
      if (srv && err instanceof Error) {
        const tail = await srv.logTail(80).catch(() => '(log unreadable)');
        const extra = `\n--- registry log (${srv.logFile}, last 80 lines) ---\n${tail}`;
        err.message += extra;
        // Reporters print the stack, which was rendered with the old message.
        if (err.stack) err.stack += extra;
      }
      throw err;
    }
  });
}
