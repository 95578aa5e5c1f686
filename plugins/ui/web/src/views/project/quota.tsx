import { useState } from 'preact/hooks';
import { api, errorMessage } from '../../api/client.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Loaded } from '../../components/states.js';
import { formatDate, formatNumber, formatSize, t } from '../../i18n/index.js';
import { useSession } from '../../session-context.js';

/**
 * A project's quota: storage and artifact count as usage bars against their limits (anyone
 * who may read the project sees them); system administrators, the only ones the API lets set a
 * quota, get the form to change the limits.
 */
export function ProjectQuota({ project }: { project: string }) {
  const { user } = useSession();
  const [notice, setNotice] = useState<string | undefined>();
  const [load, reload] = useLoad(`quota|${project}`, async () => {
    const { data, error, response } = await api.GET('/projects/{project_name}/quota', { params: { path: { project_name: project } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  return (
    <section aria-labelledby="quota-title">
      <h2 id="quota-title">{t('quota.title')}</h2>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <Loaded
        load={load}
        retry={reload}
        done={(q) => (
          <>
            <Usage id="quota-storage" label={t('quota.storage')} used={q.used.storage} hard={q.hard.storage} format={formatSize} />
            <Usage id="quota-count" label={t('quota.count')} used={q.used.count} hard={q.hard.count} format={formatNumber} />
            <p class="hint">
              {t('quota.perRepository', { limit: q.hard.repository_storage < 0 ? t('quota.unlimited') : formatSize(q.hard.repository_storage) })} ·{' '}
              {t('quota.updated', { time: formatDate(q.update_time) })}
            </p>
            {user.admin && (
              <QuotaForm
                project={project}
                storage={q.hard.storage}
                count={q.hard.count}
                onSaved={() => {
                  setNotice(t('quota.saved'));
                  reload();
                }}
              />
            )}
          </>
        )}
      />
    </section>
  );
}

function Usage({ id, label, used, hard, format }: { id: string; label: string; used: number; hard: number; format: (n: number) => string }) {
  const unlimited = hard < 0;
  const percent = unlimited || hard === 0 ? 0 : Math.min(100, Math.round((used / hard) * 100));
  const text = unlimited ? t('quota.usedUnlimited', { used: format(used) }) : t('quota.usedOf', { used: format(used), hard: format(hard), percent: formatNumber(percent) });
  return (
    <div class="usage">
      <span id={`${id}-label`} class="usage-label">
        {label}
      </span>
      {!unlimited && <meter aria-labelledby={`${id}-label`} aria-describedby={`${id}-text`} min={0} max={Math.max(hard, 1)} low={hard * 0.8} high={hard * 0.95} optimum={0} value={Math.min(used, hard)} />}
      <span id={`${id}-text`} class="usage-text">
        {text}
      </span>
    </div>
  );
}

/** `-1` or a size the API reads (`10GiB`, `500MB`, bytes). */
const SIZE = /^(-1|[0-9]+(\.[0-9]+)?\s*([kKmMgGtTpP]i?[bB]?|[bB])?)$/;

function QuotaForm({ project, storage, count, onSaved }: { project: string; storage: number; count: number; onSaved: () => void }) {
  const [size, setSize] = useState(storage < 0 ? '-1' : String(storage));
  const [artifacts, setArtifacts] = useState(String(count));
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!SIZE.test(size.trim())) return setError(t('quota.badSize'));
    setBusy(true);
    const { error: failure } = await api.PUT('/projects/{project_name}/quota', {
      params: { path: { project_name: project } },
      body: { hard: { storage: /^-?\d+$/.test(size.trim()) ? Number(size.trim()) : size.trim(), count: Number(artifacts) } },
    });
    setBusy(false);
    if (failure) return setError(errorMessage(failure));
    setError(undefined);
    onSaved();
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-labelledby="quota-edit-title">
      <h3 id="quota-edit-title">{t('quota.edit')}</h3>
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      <label for="quota-size">{t('quota.storageLimit')}</label>
      <input id="quota-size" value={size} aria-describedby="quota-size-help" onInput={(e) => setSize(e.currentTarget.value)} />
      <small id="quota-size-help">{t('quota.storageHelp')}</small>
      <label for="quota-artifacts">{t('quota.countLimit')}</label>
      <input id="quota-artifacts" type="number" min={-1} step={1} value={artifacts} aria-describedby="quota-count-help" onInput={(e) => setArtifacts(e.currentTarget.value)} />
      <small id="quota-count-help">{t('quota.countHelp')}</small>
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          {t('quota.save')}
        </button>
      </div>
    </form>
  );
}
