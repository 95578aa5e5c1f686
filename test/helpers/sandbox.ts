import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { createClientSandbox, type ClientSandbox } from './clients.js';
import { startTarget, type RegistryHandle } from './server.js';
import { makeTempDir, removeDir } from './temp.js';
import { prepareE2eProject } from './wharf-api.js';

/** What an e2e test file works with: a temp dir, isolated clients, and the registry under test. */
export interface E2eSandbox {
  readonly work: string;
  readonly clients: ClientSandbox;
  /** The running registry (throws if the file's setup failed). */
  srv(): RegistryHandle;
}

/**
 * Registers the setup every client e2e file shares: a temp dir, a client sandbox and a started
 * registry before the tests, all stopped and removed after. On Wharf (secure by default) the
 * `e2e` project is created and the clients are logged in as the administrator, the way an
 * operator starts; the tests of logins themselves use their own sandboxes. `prepare` runs in the same hook once
 * they exist (separate top-level `before` hooks are not ordered reliably by node:test on Node 20).
 */
export function useE2eSandbox(name: string, prepare?: (sandbox: E2eSandbox) => Promise<void>): E2eSandbox {
  let work: string | undefined;
  let clients: ClientSandbox | undefined;
  let server: RegistryHandle | undefined;
  before(async () => {
    work = await makeTempDir(name);
    clients = await createClientSandbox();
    server = await startTarget();
    await prepareE2eProject(server);
    if (server.admin) await clients.login(server.host, server.admin);
    await prepare?.(sandbox);
  });
  after(async () => {
    await server?.stop();
    await clients?.cleanup();
    if (work) await removeDir(work);
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    assert.ok(value, `${what} not set up`);
    return value;
  };
  const sandbox: E2eSandbox = {
    get work() {
      return ready(work, 'temp dir');
    },
    get clients() {
      return ready(clients, 'client sandbox');
    },
    srv: () => ready(server, 'registry'),
  };
  return sandbox;
}
