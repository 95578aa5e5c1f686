import { api, totalOf } from '../../api/client.js';
import { useLoad } from '../../components/load.js';
import { formatNumber, formatSize, t } from '../../i18n/index.js';
import { useSession } from '../../session-context.js';
import { roleLabel } from '../projects.js';
import { loadProject } from './access.js';
import './project.css';

/**
 * The project's summary, above its tabs (so every tab shows it): access, the caller's role,
 * repository and artifact counts, storage used against the quota. Three cheap calls: the
 * project, one repository row for the total, the quota (whose usage counts artifacts and
 * storage). Without the quotas plugin, or if the quota cannot be read, those show as unknown.
 */
export function ProjectSummary({ project }: { project: string }) {
  const { user } = useSession();
  const [load] = useLoad(project, async () => {
    const [info, repos, quota] = await Promise.all([
      loadProject(project),
      api.GET('/projects/{project_name}/repositories', { params: { path: { project_name: project }, query: { page_size: 1 } } }),
      api.GET('/projects/{project_name}/quota', { params: { path: { project_name: project } } }).catch(() => undefined),
    ]);
    return { info, repositories: repos.data ? totalOf(repos.response) : undefined, quota: quota?.data };
  });
  // The tab below shows the loading and error states (a missing project is its 404).
  if (load.state !== 'done') return null;
  const { info, repositories, quota } = load.value;
  const unknown = t('summary.unknown');
  const role = info.currentUserRole ? roleLabel(info.currentUserRole) : user.admin ? t('user.admin') : t('summary.noRole');
  return (
    <section class="summary" aria-label={t('summary.title')}>
      <dl>
        <div>
          <dt>{t('summary.access')}</dt>
          <dd>
            <span class={`badge ${info.public ? 'public' : 'private'}`}>{info.public ? t('projects.public') : t('projects.private')}</span>
          </dd>
        </div>
        <div>
          <dt>{t('summary.role')}</dt>
          <dd>{role}</dd>
        </div>
        <div>
          <dt>{t('summary.repositories')}</dt>
          <dd>{repositories === undefined ? unknown : formatNumber(repositories)}</dd>
        </div>
        <div>
          <dt>{t('summary.artifacts')}</dt>
          <dd>{quota ? formatNumber(quota.used.count) : unknown}</dd>
        </div>
        <div class="quota">
          <dt>{t('summary.storage')}</dt>
          <dd>{quota ? <QuotaBar used={quota.used.storage} hard={quota.hard.storage} /> : unknown}</dd>
        </div>
      </dl>
    </section>
  );
}

function QuotaBar({ used, hard }: { used: number; hard: number }) {
  if (hard < 0) return <>{t('summary.storageUnlimited', { used: formatSize(used) })}</>;
  const text = t('summary.storageOf', { used: formatSize(used), hard: formatSize(hard) });
  const percent = hard === 0 ? 100 : Math.min(100, Math.round((used / hard) * 100));
  return (
    <>
      <meter min={0} max={Math.max(hard, 1)} low={hard * 0.8} high={hard * 0.95} optimum={0} value={Math.min(used, Math.max(hard, 1))} aria-label={t('summary.quotaBar', { percent })} />
      <span>{text}</span>
    </>
  );
}
