import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RegistryError, type Credentials, type Principal, type RequestInfo } from '@wharf/sdk';
import type { CapturedLogs } from './logs.js';
import type { TestKernel } from './test-kernel.js';

/**
 * What every `auth` plugin must do, run against the real provider in a test kernel where it is
 * the only entry of the `auth` chain: the contract of `auth.authenticate` (a bail hook, where
 * `undefined` means "not mine" and a throw is a hard refusal) and the rule that no password
 * reaches a log line.
 */

/**
 * A provider ready for {@link runAuthProviderConformance}, as `setup` returns it.
 * @since 0.1.0
 */
export interface AuthProviderUnderTest {
  /** A kernel booted with the provider as its only `auth` entry, logging at `trace` into `logs`. */
  readonly kernel: TestKernel;
  /** Where the kernel logs; the suite looks for passwords in every line. */
  readonly logs: CapturedLogs;
  /** A user the provider knows, with the right password. The suite refuses this user last. */
  readonly user: { readonly username: string; readonly password: string };
  /**
   * Makes the provider refuse `username` from now on, the way an operator would: disable or
   * delete the account, remove the line or the directory entry.
   */
  refuse(username: string): Promise<void>;
  /** Stops what setup started (the kernel, servers, temp files). */
  close(): Promise<void>;
}

/**
 * Options of {@link runAuthProviderConformance}.
 * @since 0.1.0
 */
export interface AuthProviderConformanceOptions {
  /** The plugin id, which principals must carry as `provider`. */
  readonly provider: string;
  /** Title of the suite; default `auth provider conformance (<provider>)`. */
  readonly name?: string | undefined;
  /** Boots the provider; called once before the tests. */
  setup(): Promise<AuthProviderUnderTest>;
}

const info = (): RequestInfo => ({ requestId: randomUUID(), ip: '192.0.2.10', method: 'GET', path: '/v2/', userAgent: 'wharf-auth-conformance' });

/**
 * Registers the auth provider conformance suite with `node:test`: call it at the top level of a
 * test file. Every first-party `auth` plugin runs it; a third-party one should too.
 * @example
 * runAuthProviderConformance({
 *   provider: 'htpasswd',
 *   setup: async () => ({ kernel, logs, user: { username: 'alice', password: 'alice-pw' }, refuse, close }),
 * });
 * @since 0.1.0
 */
export function runAuthProviderConformance(options: AuthProviderConformanceOptions): void {
  describe(options.name ?? `auth provider conformance (${options.provider})`, () => {
    let target: AuthProviderUnderTest;
    const passwordsTried: string[] = [];
    const authenticate = (credentials: Credentials): Promise<Principal | undefined> => {
      if (credentials.kind === 'basic' && credentials.password.length >= 4) passwordsTried.push(credentials.password);
      return target.kernel.hooks.auth.authenticate.promise(credentials, info());
    };
    const basic = (username: string, password: string): Credentials => ({ kind: 'basic', username, password });
    const refusedAsUnauthorized = (err: unknown): boolean => {
      assert.ok(err instanceof RegistryError, `a RegistryError, got ${String(err)}`);
      assert.equal(err.code, 'UNAUTHORIZED');
      return true;
    };

    before(async () => {
      target = await options.setup();
    });
    after(async () => {
      await target?.close();
    });

    it('answers the right password with a user principal it vouches for', async () => {
      const principal = await authenticate(basic(target.user.username, target.user.password));
      assert.ok(principal, 'a principal for the right password');
      assert.equal(principal.subject.toLowerCase(), target.user.username.toLowerCase());
      assert.equal(principal.kind, 'user');
      assert.equal(principal.provider, options.provider);
      assert.ok(Array.isArray(principal.groups), 'groups is an array');
      assert.equal(typeof principal.admin, 'boolean');
      assert.ok(!JSON.stringify(principal).includes(target.user.password), 'the principal carries no password');
    });

    it('answers undefined ("not mine") for a user it does not know, so the next provider can answer', async () => {
      assert.equal(await authenticate(basic(`nobody-${randomUUID().slice(0, 8)}`, 'Some-Passw0rd-1')), undefined);
    });

    it('refuses a wrong password of a known user with UNAUTHORIZED, not "not mine"', async () => {
      await assert.rejects(authenticate(basic(target.user.username, `${target.user.password}-wrong`)), refusedAsUnauthorized);
      await assert.rejects(authenticate(basic(target.user.username, 'Completely-Other-9')), refusedAsUnauthorized);
    });

    it('never lets an empty password in', async () => {
      let principal: Principal | undefined;
      try {
        principal = await authenticate(basic(target.user.username, ''));
      } catch (err) {
        refusedAsUnauthorized(err);
      }
      assert.equal(principal, undefined);
    });

    it('leaves anonymous and bearer credentials to others', async () => {
      assert.equal(await authenticate({ kind: 'anonymous' }), undefined);
      assert.equal(await authenticate({ kind: 'bearer', token: 'not-a-token-of-mine' }), undefined);
    });

    it('refuses a user once it is disabled or removed', async () => {
      await target.refuse(target.user.username);
      let principal: Principal | undefined;
      try {
        principal = await authenticate(basic(target.user.username, target.user.password));
      } catch (err) {
        refusedAsUnauthorized(err);
      }
      assert.equal(principal, undefined, 'no principal for a refused user');
    });

    // Last: every password the suite sent, right and wrong, has been through the provider by now.
    it('wrote no password it was given to any log line', () => {
      const text = target.logs.text();
      assert.ok(text.length > 0, 'the kernel logged something (logs are captured at trace)');
      assert.ok(passwordsTried.length >= 4);
      for (const password of new Set(passwordsTried)) assert.ok(!text.includes(password), `a log line holds the password "${password.slice(0, 2)}…"`);
    });
  });
}
