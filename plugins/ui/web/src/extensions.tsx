import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from './api/client.js';
import type { components, paths } from './api/schema.js';
import type { SessionUser } from './api/session.js';
import { ErrorState, Loading } from './components/states.js';
import { formatDate, getLocale, t } from './i18n/index.js';
import { navigate } from './router.js';

/**
 * Screens plugins contribute at runtime (ADR 0039): the page reads `GET /api/v1/ui/extensions`
 * once after login, offers each slot where it belongs (a navigation link, a project or
 * repository tab, a summary panel) to the users its roles admit, and loads the slot's module with
 * `import()` from the same origin only when it is shown. The module renders into an element it is
 * given, with a small host API (no Preact needed): the project, the user and their role, the
 * language, and the management API with the session's CSRF header.
 */

type Listed = paths['/ui/extensions']['get']['responses'][200]['content']['application/json'][number];
export type ExtensionSlot = Listed;
export type ProjectRole = components['schemas']['Project']['currentUserRole'];

/** The contributed slots, and whether the list has been read yet (a deep link waits for it). */
export interface Extensions {
  readonly loaded: boolean;
  readonly all: readonly ExtensionSlot[];
}
export const ExtensionsContext = createContext<Extensions>({ loaded: false, all: [] });
export const useExtensionsLoaded = (): boolean => useContext(ExtensionsContext).loaded;
export const useExtensions = (slot: ExtensionSlot['slot']): readonly ExtensionSlot[] => useContext(ExtensionsContext).all.filter((e) => e.slot === slot);

/** Every slot plugins fill; none when the list cannot be read (the built-in screens still work). */
export async function loadExtensions(): Promise<ExtensionSlot[]> {
  const { data } = await api.GET('/ui/extensions', { params: { query: { page_size: 100 } } });
  return (data ?? []).filter((e) => e.module.startsWith('/_ext/'));
}

/** The slot's title in the page's language (English when the plugin has none for it). */
export const extensionLabel = (e: ExtensionSlot): string => e.label[getLocale()] ?? e.label['en'] ?? e.id;
/** The slot's key in URLs: `<plugin>.<id>`. */
export const extensionKey = (e: ExtensionSlot): string => `${e.plugin}.${e.id}`;

/** Whether the user is offered the slot: administrators always; else the roles it names, if any. */
export function offered(e: ExtensionSlot, user: SessionUser, role?: ProjectRole): boolean {
  if (user.admin || !e.roles) return true;
  return role !== null && role !== undefined && e.roles.includes(role);
}

interface ApiAnswer {
  status: number;
  data: unknown;
  total: number | undefined;
}

/**
 * The host API's `request`: the generated client's own (session cookie, CSRF header, 401
 * handling in its middleware), on a path a plugin names at runtime. Operations of a plugin the
 * page was built without are not in its typed document, hence the untyped path here; the server
 * validates every call as it does the page's own.
 */
async function request(method: HttpMethod, path: string, options: { query?: Record<string, string | number | boolean | undefined>; body?: unknown } = {}): Promise<ApiAnswer> {
  if (!/^\/[^/]/.test(path) || path.includes('..') || path.includes('?') || path.includes('#')) throw { status: 400, code: 'BAD_REQUEST', message: `not an API path: ${path}` };
  const query = Object.fromEntries(Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined));
  const untyped = api as unknown as { request: (method: string, path: string, init: Record<string, unknown>) => Promise<{ data?: unknown; error?: unknown; response: Response }> };
  const { data, error, response } = await untyped.request(method.toLowerCase(), path, {
    params: { query },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  if (error !== undefined || !response.ok) {
    const first = (error as { errors?: { code?: string; message?: string }[] } | undefined)?.errors?.[0];
    throw { status: response.status, code: first?.code ?? String(response.status), message: first?.message ?? errorMessage(error, response.statusText) };
  }
  return { status: response.status, data, total: response.headers.has('X-Total-Count') ? totalOf(response) : undefined };
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

type Mount = (host: Record<string, unknown>) => void | (() => void) | Promise<void | (() => void)>;

/** Where a contributed module renders: loads it, mounts it, unmounts it when the view goes. */
export function ExtensionView({ extension, user, project, repository, role }: { extension: ExtensionSlot; user: SessionUser; project?: string; repository?: string; role?: ProjectRole }) {
  const ref = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'loading' | 'ready' | { error: string }>('loading');
  const locale = getLocale();
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    let live = true;
    let unmount: void | (() => void);
    setState('loading');
    import(/* @vite-ignore */ extension.module)
      .then(async (mod: Record<string, unknown>) => {
        const mount = mod[extension.export] as Mount | undefined;
        if (typeof mount !== 'function') throw new Error(`${extension.module} has no export ${extension.export}`);
        if (!live) return;
        const host = Object.freeze({
          element,
          plugin: extension.plugin,
          slot: extension.slot,
          slotId: extension.id,
          ...(project === undefined ? {} : { project }),
          ...(repository === undefined ? {} : { repository }),
          user: Object.freeze({ name: user.name, ...(user.displayName ? { displayName: user.displayName } : {}), admin: user.admin }),
          projectRole: role ?? null,
          locale,
          api: Object.freeze({ request }),
          formatDate,
          navigate,
        });
        unmount = await mount(host);
        if (live) setState('ready');
        else if (typeof unmount === 'function') unmount();
      })
      .catch((err: unknown) => live && setState({ error: err instanceof Error ? err.message : String(err) }));
    return () => {
      live = false;
      if (typeof unmount === 'function') unmount();
      element.replaceChildren();
    };
    // Mounted again when what the host tells it changes (the language, the role once known).
  }, [extension.module, extension.export, project, repository, locale, role]);
  return (
    <div class="extension" data-extension={extensionKey(extension)}>
      {state === 'loading' && <Loading />}
      {typeof state === 'object' && <ErrorState message={t('extension.failed', { plugin: extension.plugin, message: state.error })} />}
      <div ref={ref} />
    </div>
  );
}

/** The summary panels plugins add to a project (`project-summary`), each under its title. */
export function ExtensionPanels({ user, project, role }: { user: SessionUser; project: string; role?: ProjectRole }) {
  const panels = useExtensions('project-summary').filter((e) => offered(e, user, role));
  return (
    <>
      {panels.map((e) => (
        <section key={extensionKey(e)} class="panel" aria-label={extensionLabel(e)}>
          <h2>{extensionLabel(e)}</h2>
          <ExtensionView extension={e} user={user} project={project} {...(role === undefined ? {} : { role })} />
        </section>
      ))}
    </>
  );
}
