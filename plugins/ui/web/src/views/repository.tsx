import { api, errorMessage, totalOf } from '../api/client.js';
import type { components } from '../api/schema.js';
import { CopyCommand } from '../components/copy.js';
import { ApiFailure, useLoad } from '../components/load.js';
import { Pager } from '../components/pager.js';
import { Empty, Loaded } from '../components/states.js';
import { formatDate, formatSize, t } from '../i18n/index.js';
import { intParam, useLocation } from '../router.js';
import { registryHost } from './registry-host.js';

type Artifact = components['schemas']['Artifact'];
const PAGE_SIZE = 50;
const TOOLS = ['docker', 'podman'] as const;

/** One row per tag: what users look for first (digests come second, per row). */
interface TagRow {
  readonly tag: string;
  readonly artifact: Artifact;
}

const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);
const platformsOf = (a: Artifact) =>
  a.platforms.length === 0
    ? t('repo.singlePlatform')
    : a.platforms
        .filter((p) => p.os !== 'unknown')
        .map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/'))
        .join(', ');

export function RepositoryView({ project, repository }: { project: string; repository: string }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const [load, reload] = useLoad(`${project}|${repository}|${page}`, async () => {
    const { data, error, response } = await api.GET('/projects/{project_name}/repositories/{repository_name}/artifacts', {
      params: { path: { project_name: project, repository_name: repository }, query: { page, page_size: PAGE_SIZE } },
    });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const ref = `${registryHost()}/${project}/${repository}`;
  return (
    <section aria-labelledby="repo-title">
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/projects">{t('nav.projects')}</a> / <a href={`/projects/${encodeURIComponent(project)}`}>{project}</a> / <span aria-current="page">{repository}</span>
      </nav>
      <h1 id="repo-title">
        {project}/{repository}
      </h1>
      <Loaded
        load={load}
        retry={reload}
        done={({ items, total }) => {
          // Referrers (signatures, SBOMs) are listed under their subject, not as rows of their own.
          // An index's platform manifests show as its platforms, not as untagged artifacts.
          const children = new Set(items.flatMap((a) => a.children));
          const shown = items.filter((a) => a.subject === null && !(a.tags.length === 0 && children.has(a.digest)));
          const rows: TagRow[] = shown.flatMap((a) => [...a.tags].sort().map((tag) => ({ tag, artifact: a })));
          const untagged = shown.filter((a) => a.tags.length === 0);
          if (shown.length === 0) return <Empty>{t('repo.empty')}</Empty>;
          return (
            <>
              <h2>{t('repo.tags')}</h2>
              {rows.length > 0 && (
                <table class="tags">
                  <thead>
                    <tr>
                      <th scope="col">{t('repo.col.tag')}</th>
                      <th scope="col">{t('repo.col.platforms')}</th>
                      <th scope="col">{t('repo.col.size')}</th>
                      <th scope="col">{t('repo.col.pushed')}</th>
                      <th scope="col">{t('repo.col.pulled')}</th>
                      <th scope="col">{t('repo.col.digest')}</th>
                      <th scope="col">{t('repo.col.pull')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map(({ tag, artifact: a }) => (
                      <tr key={tag}>
                        <th scope="row">{tag}</th>
                        <td class="platforms">{platformsOf(a)}</td>
                        <td>{formatSize(a.size)}</td>
                        <td>{formatDate(a.pushedAt)}</td>
                        <td>{formatDate(a.pulledAt)}</td>
                        <td>
                          <code title={a.digest}>{shortDigest(a.digest)}</code>
                          {a.referrers.length > 0 && <small class="referrers">{t('repo.referrers', { count: a.referrers.length })}</small>}
                        </td>
                        <td class="pull">
                          {TOOLS.map((tool) => (
                            <CopyCommand text={`${tool} pull ${ref}:${tag}`} label={t('copy.tag', { tool, tag })} />
                          ))}
                          {TOOLS.map((tool) => (
                            <CopyCommand text={`${tool} pull ${ref}@${a.digest}`} label={t('copy.digest', { tool })} />
                          ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {untagged.length > 0 && (
                <>
                  <h2>{t('repo.untagged')}</h2>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">{t('repo.col.digest')}</th>
                        <th scope="col">{t('repo.col.platforms')}</th>
                        <th scope="col">{t('repo.col.size')}</th>
                        <th scope="col">{t('repo.col.pushed')}</th>
                        <th scope="col">{t('repo.col.pull')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {untagged.map((a) => (
                        <tr key={a.digest}>
                          <th scope="row">
                            <code title={a.digest}>{shortDigest(a.digest)}</code>
                          </th>
                          <td class="platforms">{platformsOf(a)}</td>
                          <td>{formatSize(a.size)}</td>
                          <td>{formatDate(a.pushedAt)}</td>
                          <td class="pull">
                            {TOOLS.map((tool) => (
                              <CopyCommand text={`${tool} pull ${ref}@${a.digest}`} label={t('copy.digest', { tool })} />
                            ))}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              )}
              <Pager page={page} pageSize={PAGE_SIZE} total={total} />
            </>
          );
        }}
      />
    </section>
  );
}
