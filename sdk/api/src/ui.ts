/**
 * The UI extension contract: a plugin contributes screens to the web UI at runtime, without a
 * rebuild of the UI. In `register` it declares, with `ctx.ui.contribute(...)`, a directory of its
 * package holding a built ES module and the slots that module fills; the UI plugin serves that
 * directory at `/_ext/ui/extensions/<plugin>/` (same origin, so the page's `script-src 'self'`
 * admits it), lists every contribution at `GET /api/v1/ui/extensions`, and the page loads a
 * module with `import()` when one of its slots is shown, calling its `mount` export with a
 * {@link UiExtensionHost}. The module needs no framework: it renders into the element it is given.
 * @see docs/adr/0039-plugin-ui-extensions.md
 * @since 0.2.0
 */

/**
 * Where a contribution shows:
 * - `navigation`: a page of its own, linked from the side navigation (`/plugins/<plugin>/<id>`);
 * - `project-tab`: a tab on a project's page (`?tab=<plugin>.<id>`);
 * - `repository-tab`: a tab on a repository's page;
 * - `project-summary`: a panel on a project's summary.
 */
export const UI_SLOTS = Object.freeze(['navigation', 'project-tab', 'repository-tab', 'project-summary'] as const);
export type UiSlotKind = (typeof UI_SLOTS)[number];

/** A project role as the management API names it. */
export type UiProjectRole = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';

/** A text per UI language; `en` is required and used for a language the plugin does not name. */
export type UiLabel = { readonly en: string } & { readonly [locale: string]: string };

/** One place a contributed module fills. */
export interface UiSlot {
  readonly slot: UiSlotKind;
  /** Kebab-case, unique within the plugin; part of the URL (`?tab=webhooks.policies`). */
  readonly id: string;
  /** The tab's, link's or panel's title. */
  readonly label: UiLabel;
  /** The module's export that mounts this slot (default `mount`). */
  readonly export?: string;
  /**
   * Who is offered the slot: system administrators always; on project slots, members with one
   * of these roles (default: everyone who may see the project). `[]` means administrators only.
   * The API still decides what each call may do; this only hides what would be refused.
   */
  readonly roles?: readonly UiProjectRole[];
}

/** What a plugin gives `ctx.ui.contribute`. */
export interface UiContribution {
  /**
   * The directory of the plugin's package that holds the built module and everything it
   * imports, e.g. `new URL('../dist-ui/', import.meta.url)`. It is served read-only; nothing
   * outside it is reachable. Keep sources and secrets out of it.
   */
  readonly directory: string | URL;
  /** The ES module to import, relative to `directory` (`webhooks-tab.js`). */
  readonly module: string;
  readonly slots: readonly UiSlot[];
}

/** `ctx.ui`: declared in `register`, like routes. */
export interface PluginUi {
  /** Adds a contribution. A plugin may contribute several modules; slot ids stay unique per plugin. */
  contribute(contribution: UiContribution): void;
}

/** A contribution as the kernel keeps it: the directory resolved to an absolute path. */
export interface RegisteredUiContribution {
  readonly plugin: string;
  readonly directory: string;
  readonly module: string;
  readonly slots: readonly UiSlot[];
}

/** Every plugin's contributions, in plugin order (`coreServices.uiContributions`). */
export interface UiContributions {
  list(): readonly RegisteredUiContribution[];
}

// ---- What the page gives a module (browser side; no DOM types needed to use them) ----

/** A failed API call: the API's error envelope, flattened. */
export interface UiApiError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** An answer of the management API. */
export interface UiApiAnswer<T> {
  readonly status: number;
  readonly data: T;
  /** `X-Total-Count` of a list answer. */
  readonly total: number | undefined;
}

/**
 * The management API for a module: paths under `/api/v1`, the session cookie and its CSRF
 * header added, JSON in and out. A refusal rejects with a {@link UiApiError}; a 401 also sends
 * the page back to the login form.
 */
export interface UiApi {
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options?: { readonly query?: Readonly<Record<string, string | number | boolean | undefined>>; readonly body?: unknown },
  ): Promise<UiApiAnswer<T>>;
}

/** What `mount` receives. `E` is the element type (`HTMLElement` in a browser module). */
export interface UiExtensionHost<E = unknown> {
  /** An empty element the module owns until it is unmounted. */
  readonly element: E;
  readonly plugin: string;
  readonly slot: UiSlotKind;
  readonly slotId: string;
  /** The project shown (project and repository slots). */
  readonly project?: string;
  /** The repository shown (repository slots), with its project prefix. */
  readonly repository?: string;
  readonly user: { readonly name: string; readonly displayName?: string; readonly admin: boolean };
  /** The user's role in `project`; `null` when not a member (public project, or an administrator). */
  readonly projectRole?: UiProjectRole | null;
  /** The page's language (`en`, `zh-CN`); the module brings its own texts. */
  readonly locale: string;
  readonly api: UiApi;
  /** A date and time in the page's language. */
  formatDate(iso: string | null | undefined): string;
  /** Moves the page to another of its URLs without a reload. */
  navigate(url: string): void;
}

/**
 * A module's mount function: renders into `host.element` and may return a function the page
 * calls before it removes the element (to stop timers, drop listeners).
 */
export type UiMount<E = unknown> = (host: UiExtensionHost<E>) => void | (() => void) | Promise<void | (() => void)>;

const SLOT_ID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MODULE = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.m?js$/;
const ROLES: readonly string[] = ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest'];

/**
 * Why a contribution is malformed, or `undefined` when it is fine. Checks the shape only (the
 * files are looked at when the UI plugin starts).
 */
export function uiContributionProblem(c: UiContribution): string | undefined {
  if (!c || typeof c !== 'object') return 'a contribution must be an object';
  const dir = c.directory instanceof URL ? c.directory.protocol === 'file:' : typeof c.directory === 'string' && c.directory.startsWith('/');
  if (!dir) return 'directory must be a file: URL or an absolute path';
  if (typeof c.module !== 'string' || !MODULE.test(c.module) || c.module.split('/').some((s) => s.startsWith('.'))) {
    return `module must be a relative path to a .js file inside directory (got ${JSON.stringify(c.module)})`;
  }
  if (!Array.isArray(c.slots) || c.slots.length === 0) return 'slots must list at least one slot';
  for (const s of c.slots) {
    if (!(UI_SLOTS as readonly string[]).includes(s?.slot)) return `slot must be one of ${UI_SLOTS.join(', ')}`;
    if (typeof s.id !== 'string' || !SLOT_ID.test(s.id)) return `slot id ${JSON.stringify(s.id)} must be kebab-case`;
    if (!s.label || typeof s.label.en !== 'string' || !s.label.en) return `slot ${s.id}: label.en is required`;
    if (Object.values(s.label).some((v) => typeof v !== 'string')) return `slot ${s.id}: labels must be strings`;
    if (s.export !== undefined && (typeof s.export !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(s.export))) return `slot ${s.id}: export must be an identifier`;
    if (s.roles !== undefined && (!Array.isArray(s.roles) || s.roles.some((r: unknown) => !ROLES.includes(r as string)))) return `slot ${s.id}: roles must be project roles (${ROLES.join(', ')})`;
  }
  return undefined;
}
