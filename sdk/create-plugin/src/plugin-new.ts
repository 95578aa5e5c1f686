import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliRefusal, PLUGIN_KINDS, type PluginKind } from '@wharf/sdk';
import { authTemplate } from './scaffold/auth.js';
import { buildSteps, gitignore, packageJson, readme, tsconfigJson, type KindTemplate, type ScaffoldVars } from './scaffold/common.js';
import { packageDir, shellQuote, wharfCommand } from './local-packages.js';
import { eventsTemplate } from './scaffold/events.js';
import { loggingTemplate } from './scaffold/logging.js';
import { rbacTemplate } from './scaffold/rbac.js';
import { storageTemplate } from './scaffold/storage.js';

/** `wharf plugin new <kind> <name>`: a plugin package that builds and passes its tests as generated. */

const TEMPLATES: Readonly<Record<PluginKind, KindTemplate>> = {
  storage: storageTemplate,
  auth: authTemplate,
  rbac: rbacTemplate,
  extension: eventsTemplate,
  logging: loggingTemplate,
  replication: eventsTemplate,
};

/** The plugin id rule of `definePlugin`: lowercase letters, digits and single dashes, starting with a letter. */
const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export interface PluginNewOptions {
  /** Target directory (default `./wharf-plugin-<kind>-<name>`), relative to the working directory. */
  readonly dir?: string | undefined;
  /** The kernel the plugin is written for (its SDK version and `kernel` range come from it). */
  readonly kernelVersion: string;
}

/** A mistake in the command line: one line, no stack. */
function usage(message: string): CliRefusal {
  return new CliRefusal(undefined, message);
}

export function scaffoldVars(kind: string, name: string, kernelVersion: string): ScaffoldVars {
  if (!(PLUGIN_KINDS as readonly string[]).includes(kind)) {
    throw usage(`plugin new: unknown kind "${kind}"; use one of ${PLUGIN_KINDS.join(', ')}`);
  }
  if (!NAME.test(name) || name.length > 64) {
    throw usage(`plugin new: invalid name "${name}"; use lowercase letters, digits and single dashes, starting with a letter (e.g. my-users)`);
  }
  const [major, minor] = kernelVersion.split('.');
  return {
    sdkDir: packageDir('@wharf/sdk'),
    sdkTestingDir: packageDir('@wharf/sdk-testing'),
    wharf: wharfCommand(),
    kind: kind as PluginKind,
    name,
    packageName: `wharf-plugin-${kind}-${name}`,
    sdkVersion: kernelVersion,
    // Before 1.0 a minor release may break plugins, so the range pins the minor.
    kernelRange: major === '0' ? `^0.${minor}.0` : `^${major}.0.0`,
  };
}

/** The files of a scaffold, relative path → text. */
export function scaffoldFiles(v: ScaffoldVars): Record<string, string> {
  const t = TEMPLATES[v.kind];
  return {
    'package.json': packageJson(v),
    'tsconfig.json': tsconfigJson(),
    '.gitignore': gitignore(),
    'README.md': readme(v, t),
    'src/index.ts': t.index(v),
    'src/index.test.ts': t.test(v),
  };
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTDIR') return false;
    throw err;
  }
}

export async function pluginNewCommand(kind: string, name: string, opts: PluginNewOptions, out: (text: string) => void): Promise<number> {
  const vars = scaffoldVars(kind, name, opts.kernelVersion);
  const target = path.resolve(process.cwd(), opts.dir ?? vars.packageName);
  if (!(await isEmptyOrMissing(target))) {
    throw usage(`plugin new: ${target} already exists and is not an empty directory; choose another --dir`);
  }
  const files = scaffoldFiles(vars);
  for (const [file, text] of Object.entries(files)) {
    const where = path.join(target, file);
    await mkdir(path.dirname(where), { recursive: true });
    await writeFile(where, text, { flag: 'wx' });
  }
  const relative = path.relative(process.cwd(), target);
  const shown = relative === '' ? '.' : relative.startsWith('..') ? target : relative;
  // The same commands as the README's, runnable as printed (the create-plugin test runs them).
  const steps: Array<[string, string]> = [[`cd ${shellQuote(shown)}`, ''], ...buildSteps(vars)];
  const width = Math.max(...steps.map(([cmd]) => cmd.length));
  out(
    [
      `created ${vars.kind} plugin "${vars.name}" (${vars.packageName}) in ${shown}`,
      ...Object.keys(files).map((f) => `  ${f}`),
      '',
      'next steps:',
      ...steps.map(([cmd, why]) => (why ? `  ${cmd.padEnd(width)}   # ${why}` : `  ${cmd}`)),
    ].join('\n'),
  );
  return 0;
}
