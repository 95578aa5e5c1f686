import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { Type, type HttpContext, type ManagementApi, type RegisteredUiContribution, type UiContributions } from '@wharf/sdk';
import type { Logger } from 'pino';
import { CONTENT_SECURITY_POLICY } from './security.js';

/**
 * Plugins' UI contributions (ADR 0039): each contribution's directory is served read-only at
 * `/_ext/ui/extensions/<plugin>/<n>/<file>` (same origin, so the page's `script-src 'self'`
 * loads it), and `GET /api/v1/ui/extensions` lists every slot with its module URL. Only files
 * inside the directory are reachable (no `..`, no dot files, symlinks resolved and checked), only
 * of the kinds a module needs, with their real content types.
 */

export const EXTENSIONS_PREFIX = '/extensions';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

interface Served {
  readonly contribution: RegisteredUiContribution;
  /** Real path of the directory, with a trailing separator. */
  readonly root: string;
}

export interface UiExtensions {
  /** `<plugin>/<n>` → the served directory. */
  readonly served: ReadonlyMap<string, Served>;
  serve(ctx: HttpContext, next: () => Promise<void>, mountPrefix: string): Promise<void>;
}

/** The contributions whose directory and module exist; the others are logged and left out. */
export function loadUiExtensions(contributions: UiContributions, logger: Logger): UiExtensions {
  const served = new Map<string, Served>();
  const counts = new Map<string, number>();
  for (const c of contributions.list()) {
    const n = counts.get(c.plugin) ?? 0;
    counts.set(c.plugin, n + 1);
    try {
      const root = realpathSync(c.directory) + sep;
      const module = realpathSync(join(root, c.module));
      if (!module.startsWith(root) || !statSync(module).isFile()) throw new Error(`${c.module} is not a file inside ${c.directory}`);
      served.set(`${c.plugin}/${n}`, { contribution: c, root });
    } catch (err) {
      logger.warn({ plugin: c.plugin, directory: c.directory, module: c.module, err: (err as Error).message }, 'ui: a plugin contributes a UI module that is not there (is the plugin built?); left out');
    }
  }
  return {
    served,
    async serve(ctx, next, mountPrefix) {
      const file = await resolveFile(ctx.path.slice(mountPrefix.length + EXTENSIONS_PREFIX.length), served);
      if (!file) return next();
      const body = await readFile(file);
      ctx.status = 200;
      ctx.set('Content-Type', TYPES[extname(file)] as string);
      // Revalidated on each load: a plugin upgrade shows without a cache to clear.
      ctx.set('Cache-Control', 'no-cache');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      ctx.body = body;
    },
  };
}

/** `/<plugin>/<n>/<path>` → a real file inside that contribution's directory, or `undefined`. */
async function resolveFile(rest: string, served: ReadonlyMap<string, Served>): Promise<string | undefined> {
  const raw = rest.split('/');
  if (raw[0] !== '' || raw.length < 4) return undefined;
  let segments: string[];
  try {
    segments = raw.slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  // Every segment a plain name: no '', '.', '..', dot files, separators or NUL after decoding.
  if (segments.some((s) => !s || s.startsWith('.') || /[\\/\0]/.test(s))) return undefined;
  const entry = served.get(`${segments[0]}/${segments[1]}`);
  if (!entry) return undefined;
  const path = join(entry.root, ...segments.slice(2));
  if (!TYPES[extname(path)]) return undefined;
  try {
    const real = realpathSync(path);
    if (!real.startsWith(entry.root) || !statSync(real).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

const Slot = Type.Object({
  plugin: Type.String({ description: 'The contributing plugin' }),
  slot: Type.Union([Type.Literal('navigation'), Type.Literal('project-tab'), Type.Literal('repository-tab'), Type.Literal('project-summary')]),
  id: Type.String({ description: 'Unique within the plugin' }),
  label: Type.Record(Type.String(), Type.String(), { description: 'Title per language; `en` always present' }),
  module: Type.String({ description: 'Same-origin URL of the ES module to import()' }),
  export: Type.String({ description: 'The export of the module that mounts the slot' }),
  roles: Type.Optional(Type.Array(Type.String(), { description: 'Project roles offered the slot (system administrators always are); absent: everyone who may see the project' })),
});

/** `GET /api/v1/ui/extensions`: every slot the loaded plugins fill. */
export function registerExtensionsApi(api: ManagementApi, extensions: UiExtensions, routePrefix: string): void {
  api.operation({
    operationId: 'listUiExtensions',
    method: 'GET',
    path: '/ui/extensions',
    tag: 'ui',
    summary: 'The web UI slots plugins fill (navigation pages, project and repository tabs, summary panels)',
    description: 'Any logged-in user may read it: modules are public code; what they show comes from the API, with its permissions.',
    list: true,
    response: Slot,
    async handler(req) {
      const all = [...extensions.served.entries()].flatMap(([key, { contribution: c }]) =>
        c.slots.map((s) => ({
          plugin: c.plugin,
          slot: s.slot,
          id: s.id,
          label: { ...s.label },
          module: `${routePrefix}${EXTENSIONS_PREFIX}/${key}/${c.module}`,
          export: s.export ?? 'mount',
          ...(s.roles ? { roles: [...s.roles] } : {}),
        })),
      );
      const { page, pageSize } = req.page;
      return { items: all.slice((page - 1) * pageSize, page * pageSize), total: all.length };
    },
  });
}
