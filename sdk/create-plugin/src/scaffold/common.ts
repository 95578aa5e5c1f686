import type { PluginKind } from '@wharf/sdk';
import { shellQuote } from '../local-packages.js';

/** What every template gets: the names and versions of the plugin being scaffolded. */
export interface ScaffoldVars {
  readonly kind: PluginKind;
  /** The plugin id and config key, e.g. `my-users`. */
  readonly name: string;
  /** `wharf-plugin-<kind>-<name>`. */
  readonly packageName: string;
  /** The SDK, kit and kernel version the package is scaffolded against (fixed versioning). */
  readonly sdkVersion: string;
  /** The `kernel` range the plugin declares, e.g. `^0.1.0`. */
  readonly kernelRange: string;
  /** Directories of `@wharf/sdk` and `@wharf/sdk-testing` to link (`file:`): they are not on npm. */
  readonly sdkDir: string;
  readonly sdkTestingDir: string;
  /** How the next steps run `wharf` (`node /opt/wharf/server/bin/wharf.js`). */
  readonly wharf: string;
}

/** The kind-specific part of a scaffold: three files' worth of text. */
export interface KindTemplate {
  /** src/index.ts */
  readonly index: (v: ScaffoldVars) => string;
  /** src/index.test.ts */
  readonly test: (v: ScaffoldVars) => string;
  /** README section "Configuration": what the config means, as YAML plus a sentence or two. */
  readonly readmeConfig: (v: ScaffoldVars) => string;
  /** One line for the README's first paragraph. */
  readonly summary: string;
}

/** The config section a kind lives under in wharf.yaml, and how a key is written there. */
export function yamlSection(kind: PluginKind, name: string, body: string): string {
  const indented = (n: number) => body.split('\n').map((line) => (line ? ' '.repeat(n) + line : line)).join('\n');
  if (kind === 'auth') return `auth:\n  - ${name}:\n${indented(6)}`;
  const section = kind === 'extension' ? 'extensions' : kind;
  return `${section}:\n  ${name}:\n${indented(4)}`;
}

/** `my-users` → `myUsers`, for the exported constant. */
export function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The exported constant's name, e.g. `authMyUsersPlugin`. */
export function exportName(v: ScaffoldVars): string {
  return `${v.kind}${camel(`-${v.name}`)}Plugin`;
}

export function packageJson(v: ScaffoldVars): string {
  const pkg = {
    name: v.packageName,
    version: '0.1.0',
    description: `A Wharf ${v.kind} plugin`,
    type: 'module',
    license: 'UNLICENSED',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
    // src goes along so the source maps in dist resolve; tests stay out.
    files: ['dist', 'src', '!dist/**/*.test.*', '!src/**/*.test.*', 'README.md'],
    keywords: ['wharf-plugin', `wharf-plugin-${v.kind}`],
    engines: { node: '>=20.19' },
    scripts: {
      build: 'tsc -p tsconfig.json',
      test: 'tsc -p tsconfig.json && node --test dist/',
      prepack: 'tsc -p tsconfig.json',
    },
    // A peer dependency: the plugin must share the kernel's copy of the SDK (its error classes,
    // its hook types), so the host installation provides it.
    peerDependencies: { '@wharf/sdk': `^${v.sdkVersion}` },
    // The SDK and the kit are not on the npm registry: linked from the wharf that scaffolded
    // this package (the same version), so `npm install` works with only the registry at hand.
    devDependencies: {
      '@types/node': '^20.19.0',
      '@wharf/sdk': `file:${v.sdkDir}`,
      '@wharf/sdk-testing': `file:${v.sdkTestingDir}`,
      typescript: '^5.9.0',
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function tsconfigJson(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      esModuleInterop: true,
      skipLibCheck: true,
      declaration: true,
      sourceMap: true,
      types: ['node'],
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The commands that build, test, check and pack the package, with why; the README and the printed next steps show these. */
export function buildSteps(v: ScaffoldVars): Array<[string, string]> {
  return [
    ['npm install', 'TypeScript from the registry; the SDK and the testing kit linked from this Wharf'],
    ['npm test', 'builds (tsc), then runs node --test dist/'],
    [`${v.wharf} plugin verify ./ --kind ${v.kind}`, "the kernel loader's checks, for CI"],
    ['npm pack', `→ ${v.packageName}-0.1.0.tgz`],
  ];
}

export function gitignore(): string {
  return 'node_modules/\ndist/\n*.tgz\n';
}

export function readme(v: ScaffoldVars, t: KindTemplate): string {
  return `# ${v.packageName}

A Wharf \`${v.kind}\` plugin with id \`${v.name}\`: ${t.summary}

Scaffolded by \`wharf plugin new ${v.kind} ${v.name}\` against \`@wharf/sdk\` ${v.sdkVersion};
the plugin declares the kernel range \`${v.kernelRange}\`. See the guide "Writing a plugin"
(docs/guides/writing-a-plugin.md in the Wharf repository) for the whole contract.

## Configuration

${t.readmeConfig(v)}

## Build and test

\`@wharf/sdk\` and \`@wharf/sdk-testing\` are not published on the npm registry:
\`package.json\` links them (\`file:\`) from the Wharf installation that scaffolded this package
(\`${v.sdkDir}\` and \`${v.sdkTestingDir}\`). Only TypeScript and \`@types/node\` come from
the registry. Moved elsewhere, point those two entries at another Wharf installation.

\`\`\`sh
${buildSteps(v).map(([cmd, why]) => (why ? `${cmd}    # ${why}` : cmd)).join('\n')}
\`\`\`

The tests use \`@wharf/sdk-testing\`, which boots the real kernel: nothing is mocked.

## Load it in wharf.yaml

Install the package next to your \`wharf.yaml\` (the kernel resolves plugins from the config
file's directory first), with the SDK it shares with the kernel:

\`\`\`sh
npm pack                                   # → ${v.packageName}-0.1.0.tgz
cd /etc/wharf && npm install ${shellQuote(v.sdkDir)} /path/to/${v.packageName}-0.1.0.tgz
${v.wharf} config check wharf.yaml
\`\`\`

The config key \`${v.name}\` under the \`${v.kind === 'extension' ? 'extensions' : v.kind}\` section makes the kernel look for
\`@wharf/plugin-${v.kind}-${v.name}\`, then \`${v.packageName}\`. A path works too
(\`./plugins/${v.packageName}: {}\`), resolved against the config file's directory.
`;
}
