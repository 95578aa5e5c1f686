import { exportName, yamlSection, type KindTemplate, type ScaffoldVars } from './common.js';

/** `auth`: static users from the config, checked on `auth.authenticate`. */

const index = (v: ScaffoldVars): string => `import { createHash, timingSafeEqual } from 'node:crypto';
import { definePlugin, RegistryError, Type, type Principal, type Static } from '@wharf/sdk';

export const configSchema = Type.Object(
  {
    users: Type.Array(
      Type.Object(
        {
          username: Type.String({ minLength: 1 }),
          // \`secret: true\`: redacted by \`wharf config print\` and kept out of the logs.
          password: Type.String({ minLength: 1, secret: true }),
          admin: Type.Boolean({ default: false }),
          groups: Type.Array(Type.String(), { default: [] }),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof configSchema>;

/** Compares in constant time (over fixed-length hashes, so lengths do not leak either). */
function samePassword(given: string, expected: string): boolean {
  const hash = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(hash(given), hash(expected));
}

export const ${exportName(v)} = definePlugin({
  id: '${v.name}',
  kind: 'auth',
  version: '0.1.0',
  kernel: '${v.kernelRange}',
  description: 'Users listed in the config file',
  configSchema,
  register(ctx) {
    const users = new Map(ctx.config.users.map((user) => [user.username, user]));
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials): Promise<Principal | undefined> => {
      // \`undefined\` means "not mine": the next provider of the auth chain gets a turn.
      if (credentials.kind !== 'basic') return undefined;
      const user = users.get(credentials.username);
      if (!user) return undefined;
      // A known user with a wrong password is a hard failure.
      if (!samePassword(credentials.password, user.password)) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
      return { subject: user.username, kind: 'user', provider: ctx.id, admin: user.admin, groups: user.groups };
    });
    ctx.logger.debug({ users: users.size }, 'static users loaded');
  },
});

export default ${exportName(v)};
`;

const test = (v: ScaffoldVars): string => `import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OciResponseError, pullManifest, pushImage, startTestRegistry, tinyImage, verifyPlugin, type TestRegistry } from '@wharf/sdk-testing';
import plugin from './index.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const basic = (user: string, password: string) => \`Basic \${Buffer.from(\`\${user}:\${password}\`).toString('base64')}\`;

describe('${v.packageName}', () => {
  it('loads through the production loader and taps auth.authenticate', async () => {
    const v = await verifyPlugin('${v.name}', { kind: 'auth', cwd: packageDir });
    assert.equal(v.id, '${v.name}');
    assert.equal(v.packageName, '${v.packageName}');
    assert.deepEqual(v.taps, ['auth.authenticate']);
  });

  it('refuses a user without a password at its key path', async () => {
    await assert.rejects(
      verifyPlugin('${v.name}', { kind: 'auth', cwd: packageDir, config: { users: [{ username: 'alice' }] } }),
      /auth\\[0\\]\\.${v.name}\\.users\\[0\\]\\.password: is required/,
    );
  });

  describe('in a running registry', () => {
    let registry: TestRegistry;
    before(async () => {
      registry = await startTestRegistry({
        config: { auth: [{ '${v.name}': { users: [{ username: 'alice', password: 'wonderland-42' }] } }], token: { enabled: true } },
        plugins: [plugin],
      });
    });
    after(() => registry.close());

    it('lets a configured user push and pull over HTTP', async () => {
      const authorization = basic('alice', 'wonderland-42');
      const image = tinyImage();
      const { digest } = await pushImage(registry.url, 'library/tiny', 'v1', image, { authorization });
      assert.equal(digest, image.manifest.digest);
      assert.equal((await pullManifest(registry.url, 'library/tiny', 'v1', { authorization })).digest, digest);
    });

    it('refuses a wrong password, an unknown user and no credentials with 401', async () => {
      for (const authorization of [basic('alice', 'not-her-password'), basic('mallory', 'wonderland-42'), undefined]) {
        await assert.rejects(pushImage(registry.url, 'library/tiny', 'v2', tinyImage({ text: 'other' }), { authorization }), (err: unknown) => {
          assert.ok(err instanceof OciResponseError);
          assert.equal(err.status, 401);
          return true;
        });
      }
    });
  });
});
`;

const readmeConfig = (v: ScaffoldVars): string => `\`\`\`yaml
${yamlSection('auth', v.name, `users:\n  - username: alice\n    password: change-me            # secret: redacted by \`wharf config print\`\n    admin: false                 # default false\n    groups: [developers]         # default []`)}
\`\`\`

Basic credentials of a listed user give a principal; a wrong password is refused; names the
list does not know go to the next provider of the \`auth\` chain. Passwords sit in the config
in clear: keep the file private, or set them from the environment
(\`WHARF_AUTH__0__${v.name.toUpperCase().replace(/-/g, '_')}__USERS__0__PASSWORD=...\`), or move to hashed passwords
(\`verifySecret\` in \`@wharf/sdk\`).`;

export const authTemplate: KindTemplate = {
  index,
  test,
  readmeConfig,
  summary: 'Basic-auth users listed in the config file, checked on `auth.authenticate`.',
};
