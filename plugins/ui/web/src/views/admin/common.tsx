import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Load } from '../../components/load.js';
import { t, type MessageKey } from '../../i18n/index.js';
import { useLocation } from '../../router.js';
import { useSession } from '../../session-context.js';
import './admin.css';

/**
 * What the administration screens share: the section navigation, polling and live reloads,
 * status badges and durations.
 */

export const ADMIN_SECTIONS: readonly { readonly path: string; readonly label: MessageKey }[] = [
  { path: '/admin/users', label: 'admin.nav.users' },
  { path: '/admin/groups', label: 'admin.nav.groups' },
  { path: '/admin/registries', label: 'admin.nav.registries' },
  { path: '/admin/replication', label: 'admin.nav.replication' },
  { path: '/admin/audit', label: 'admin.nav.audit' },
  { path: '/admin/gc', label: 'admin.nav.gc' },
  { path: '/admin/system', label: 'admin.nav.system' },
];

/** An administration screen: its title, the section tabs, an optional action button, the content. */
export function AdminPage({ id, title, action, children }: { id: string; title: string; action?: ComponentChildren; children: ComponentChildren }) {
  const loc = useLocation();
  const { user } = useSession();
  return (
    <section aria-labelledby={`${id}-title`} class="admin">
      {user.admin && (
      <nav aria-label={t('admin.sections')} class="tabs">
        <ul>
          {ADMIN_SECTIONS.map((s) => (
            <li key={s.path}>
              <a href={s.path} aria-current={loc.path === s.path || loc.path.startsWith(s.path + '/') ? 'page' : undefined}>
                {t(s.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      )}
      <div class="title-row">
        <h1 id={`${id}-title`}>{title}</h1>
        {action}
      </div>
      {children}
    </section>
  );
}

/** Calls `fn` every `ms` while `active` (a running job's live status); stops when it is done. */
export function usePoll(active: boolean, fn: () => void, ms = 2000): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => latest.current(), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
}

/** A status word as a coloured badge (succeeded green, failed red, running accent). */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span class={`badge status-${status}`}>{label ?? statusLabel(status)}</span>;
}

const STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'stopping', 'stopped', 'skipped', 'delivered', 'dead'];
export function statusLabel(status: string): string {
  return STATUSES.includes(status) ? t(`admin.status.${status}` as MessageKey) : status;
}

/** Milliseconds as a short duration (`45 s`, `3 min`, `2 h`). */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return t('admin.duration.seconds', { n: s });
  if (s < 7200) return t('admin.duration.minutes', { n: Math.round(s / 60) });
  return t('admin.duration.hours', { n: Math.round(s / 3600) });
}

/**
 * Like useLoad, but a `refresh()` (after an action, or a poll while something runs) keeps the
 * rows on screen until the new answer arrives; only a new `key` (page, filters) shows loading.
 */
export function useLiveLoad<T>(key: string, fetcher: () => Promise<T>): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  const lastKey = useRef<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    if (lastKey.current !== key) {
      lastKey.current = key;
      setLoad({ state: 'loading' });
    }
    fetcher().then(
      (value) => live && setLoad({ state: 'done', value }),
      (err: unknown) => live && setLoad({ state: 'error', message: err instanceof Error ? err.message : String(err), status: (err as { status?: number }).status }),
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  return [load, () => setRound((r) => r + 1)];
}
