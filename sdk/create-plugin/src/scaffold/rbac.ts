import { exportName, yamlSection, type KindTemplate, type ScaffoldVars } from './common.js';

/** `rbac`: an ordered list of allow/deny rules from the config, on `rbac.authorize`. */

const index = (v: ScaffoldVars): string => `import { definePlugin, Type, type AccessRequest, type Decision, type Principal, type Static } from '@wharf/sdk';

const Rule = Type.Object(
  {
    /** User names, \`group:<name>\`, \`anonymous\` or \`*\` (anyone). */
    subjects: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
    /** Repository names; \`*\` matches any characters, slashes included (\`team-a/*\`). */
    repositories: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    /** \`pull\`, \`push\`, \`delete\` or \`*\`. */
    actions: Type.Array(Type.Union([Type.Literal('pull'), Type.Literal('push'), Type.Literal('delete'), Type.Literal('*')]), { minItems: 1 }),
    effect: Type.Union([Type.Literal('allow'), Type.Literal('deny')], { default: 'allow' }),
  },
  { additionalProperties: false },
);

export const configSchema = Type.Object({ rules: Type.Array(Rule, { default: [] }) }, { additionalProperties: false });
export type Config = Static<typeof configSchema>;
export type RuleConfig = Static<typeof Rule>;

function glob(pattern: string): RegExp {
  const literal = (part: string) => part.replace(/[.+?^\${}()|[\\]\\\\]/g, '\\\\$&');
  return new RegExp(\`^\${pattern.split('*').map(literal).join('.*')}$\`);
}

/** The first rule matching the principal, repository and action decides; none matching is "no opinion". */
export function decide(rules: readonly RuleConfig[], principal: Principal, request: AccessRequest): Decision | undefined {
  if (request.resource.type !== 'repository') return undefined;
  const repository = request.resource.name;
  for (const rule of rules) {
    const subject = rule.subjects.some((s) => s === '*' || s === principal.subject || (s.startsWith('group:') && principal.groups.includes(s.slice(6))));
    if (!subject) continue;
    if (!rule.actions.some((a) => a === '*' || a === request.action)) continue;
    if (!rule.repositories.some((pattern) => glob(pattern).test(repository))) continue;
    return rule.effect === 'allow' ? { allow: true } : { allow: false, reason: \`denied by rbac.${v.name}\` };
  }
  return undefined;
}

export const ${exportName(v)} = definePlugin({
  id: '${v.name}',
  kind: 'rbac',
  version: '0.1.0',
  kernel: '${v.kernelRange}',
  description: 'Allow and deny rules on repositories, from the config file',
  configSchema,
  register(ctx) {
    const rules = ctx.config.rules;
    // The first explicit decision of the rbac chain wins; if every tap says \`undefined\`, the kernel denies.
    ctx.hooks.rbac.authorize.tapPromise(ctx.id, async (principal, request) => decide(rules, principal, request));
  },
});

export default ${exportName(v)};
`;

const test = (v: ScaffoldVars): string => `import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ANONYMOUS } from '@wharf/sdk';
import { OciResponseError, pullManifest, pushImage, startTestRegistry, tinyImage, verifyPlugin, type TestRegistry } from '@wharf/sdk-testing';
import plugin, { decide } from './index.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rules = [
  { subjects: ['*'], repositories: ['public/secret*'], actions: ['*' as const], effect: 'deny' as const },
  { subjects: ['*'], repositories: ['public/*'], actions: ['pull' as const, 'push' as const], effect: 'allow' as const },
];

describe('${v.packageName}', () => {
  it('loads through the production loader and taps rbac.authorize', async () => {
    const v = await verifyPlugin('${v.name}', { kind: 'rbac', cwd: packageDir, config: { rules } });
    assert.equal(v.id, '${v.name}');
    assert.equal(v.packageName, '${v.packageName}');
    assert.deepEqual(v.taps, ['rbac.authorize']);
  });

  it('refuses an unknown action at its key path', async () => {
    await assert.rejects(
      verifyPlugin('${v.name}', { kind: 'rbac', cwd: packageDir, config: { rules: [{ repositories: ['*'], actions: ['write'] }] } }),
      /rbac\\.${v.name}\\.rules\\[0\\]\\.actions\\[0\\]/,
    );
  });

  it('lets the first matching rule decide and has no opinion otherwise', () => {
    const repo = (name: string, action: string) => ({ resource: { type: 'repository' as const, name }, action });
    assert.deepEqual(decide(rules, ANONYMOUS, repo('public/app', 'push')), { allow: true });
    assert.equal(decide(rules, ANONYMOUS, repo('public/secret-app', 'pull'))?.allow, false);
    assert.equal(decide(rules, ANONYMOUS, repo('public/app', 'delete')), undefined);
    assert.equal(decide(rules, ANONYMOUS, repo('private/app', 'pull')), undefined);
  });

  describe('in a running registry', () => {
    let registry: TestRegistry;
    before(async () => {
      // No auth plugin: every caller is anonymous, and the rules alone decide.
      registry = await startTestRegistry({ config: { rbac: { '${v.name}': { rules } } }, plugins: [plugin] });
    });
    after(() => registry.close());

    it('allows a push and a pull the rules allow, over HTTP', async () => {
      const image = tinyImage();
      const { digest } = await pushImage(registry.url, 'public/tiny', 'v1', image);
      assert.equal(digest, image.manifest.digest);
      assert.equal((await pullManifest(registry.url, 'public/tiny', 'v1')).digest, digest);
    });

    it('refuses what a rule denies and what no rule allows', async () => {
      for (const repository of ['public/secret-tiny', 'private/tiny']) {
        await assert.rejects(pushImage(registry.url, repository, 'v1', tinyImage()), (err: unknown) => {
          assert.ok(err instanceof OciResponseError, String(err));
          assert.ok(err.status === 401 || err.status === 403, \`\${repository}: status \${err.status}\`);
          return true;
        });
      }
    });
  });
});
`;

const readmeConfig = (v: ScaffoldVars): string => `\`\`\`yaml
${yamlSection('rbac', v.name, `rules:                         # the first matching rule decides
  - subjects: ["*"]            # user names, group:<name>, anonymous, or * (default)
    repositories: [secret/*]   # * matches any characters, slashes included
    actions: ["*"]             # pull, push, delete or *
    effect: deny               # allow (default) or deny
  - subjects: [group:developers]
    repositories: [team-a/*]
    actions: [pull, push]`)}
\`\`\`

A request no rule matches gets no answer from this plugin; when no RBAC plugin answers, the
kernel denies. Only repository access is decided here (not the management API).`;

export const rbacTemplate: KindTemplate = {
  index,
  test,
  readmeConfig,
  summary: 'allow and deny rules on repositories from the config file, on `rbac.authorize`.',
};
