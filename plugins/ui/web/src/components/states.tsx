import type { ComponentChildren } from 'preact';
import { t } from '../i18n/index.js';
import type { Load } from './load.js';

export function Loading() {
  return (
    <p class="state" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {t('state.loading')}
    </p>
  );
}

export function ErrorState({ message, status, retry }: { message: string; status?: number | undefined; retry?: () => void }) {
  const text = status === 403 ? t('state.forbidden') : status === 404 ? t('state.notFound') : t('state.error', { message });
  return (
    <div class="state error" role="alert">
      <p>{text}</p>
      {retry && status !== 403 && status !== 404 && (
        <button type="button" onClick={retry}>
          {t('state.retry')}
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

/** Renders `done` when the load is done, else its loading or error state. */
export function Loaded<T>({ load, retry, done }: { load: Load<T>; retry: () => void; done: (value: T) => ComponentChildren }) {
  if (load.state === 'loading') return <Loading />;
  if (load.state === 'error') return <ErrorState message={load.message} status={load.status} retry={retry} />;
  return <>{done(load.value)}</>;
}
