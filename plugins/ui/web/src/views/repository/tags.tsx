import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import { CopyCommand } from '../../components/copy.js';
import { useDebouncedInput } from '../../components/debounce.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Pager } from '../../components/pager.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { Empty, Loaded } from '../../components/states.js';
import { formatDate, formatNumber, formatSize, t, type MessageKey } from '../../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../../router.js';
import { registryHost } from '../registry-host.js';
import { platformsOf, shortDigest, TOOLS, type TagRow } from './common.js';
import { AddTagDialog, DeleteArtifactsDialog, RemoveTagDialog, type RepoRef } from './dialogs.js';

const PAGE_SIZE = 50;
type Sort = 'name' | '-name' | 'pushed' | '-pushed' | 'pulled' | '-pulled';
const COLUMNS: readonly { key: 'name' | 'pushed' | 'pulled'; label: MessageKey }[] = [
  { key: 'name', label: 'repo.col.tag' },
  { key: 'pushed', label: 'repo.col.pushed' },
  { key: 'pulled', label: 'repo.col.pulled' },
];

/** The tags view: one row per tag, sorted and paged on the server, with per-row and bulk actions. */
export function TagsView({ repo, may, onChanged }: { repo: RepoRef; may: { addTag: boolean; remove: boolean }; onChanged: () => void }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  // The tags operation has its own single-key `sort` (version-aware names); same URL shape.
  const listed = listSort(loc, COLUMNS.map((c) => c.key), '-pushed');
  const sort = (listed.param ?? '-pushed') as Sort;
  const name = loc.query.get('name') ?? '';
  const [search, setSearch] = useDebouncedInput(name, (v) => navigate(withQuery(loc, { name: v, page: undefined }), { replace: true }));
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [adding, setAdding] = useState<string | undefined>();
  const [removing, setRemoving] = useState<{ tag: string; digest: string } | undefined>();
  const [deleting, setDeleting] = useState<readonly string[] | undefined>();
  const [load, reload] = useLoad(`${repo.project}|${repo.repository}|${page}|${sort}|${name}`, async () => {
    setSelected(new Set());
    const q = name ? `name=~${encodeURIComponent(name)}` : undefined;
    const { data, error, response } = await api.GET('/projects/{project_name}/repositories/{repository_name}/tags', {
      params: { path: { project_name: repo.project, repository_name: repo.repository }, query: { page, page_size: PAGE_SIZE, sort, ...(q ? { q } : {}) } },
    });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const ref = `${registryHost()}/${repo.project}/${repo.repository}`;
  const changed = (text: string, error = false) => {
    setNotice({ text, error });
    reload();
    onChanged();
  };
  const toggle = (tag: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(tag);
    else next.delete(tag);
    setSelected(next);
  };
  return (
    <>
      <h2>{t('repo.tags')}</h2>
      {notice && (
        <p class={`notice${notice.error ? ' error' : ''}`} role={notice.error ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('repo.filterTags')}</span>
          <input type="search" value={search} placeholder={t('repos.searchPlaceholder')} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
      </form>
      <Loaded
        load={load}
        retry={reload}
        done={({ items, total }) => {
          if (items.length === 0) return <Empty>{name ? t('repo.noTagMatches', { q: name }) : t('repo.noTags')}</Empty>;
          const rows = items as TagRow[];
          const chosen = rows.filter((r) => selected.has(r.name));
          const allOn = chosen.length === rows.length;
          return (
            <>
              {may.remove && (
                <div class="bulk" role="group" aria-label={t('repo.bulk.label')}>
                  <span>{t('repo.bulk.selected', { count: formatNumber(chosen.length) })}</span>
                  <button type="button" class="danger" disabled={chosen.length === 0} onClick={() => setDeleting([...new Set(chosen.map((r) => r.digest))])}>
                    {t('repo.bulk.deleteArtifacts')}
                  </button>
                </div>
              )}
              <table class="tags">
                <thead>
                  <tr>
                    {may.remove && (
                      <th scope="col">
                        <input type="checkbox" aria-label={t('repo.selectAll')} checked={allOn} onChange={(e) => setSelected(e.currentTarget.checked ? new Set(rows.map((r) => r.name)) : new Set())} />
                      </th>
                    )}
                    <SortHeader column="name" label={t(COLUMNS[0]!.label)} sort={listed} />
                    <th scope="col">{t('repo.col.digest')}</th>
                    <th scope="col">{t('repo.col.platforms')}</th>
                    <th scope="col">{t('repo.col.size')}</th>
                    <SortHeader column="pushed" label={t(COLUMNS[1]!.label)} sort={listed} />
                    <SortHeader column="pulled" label={t(COLUMNS[2]!.label)} sort={listed} />
                    <th scope="col">{t('repo.col.pull')}</th>
                    <th scope="col">
                      <span class="visually-hidden">{t('projects.col.actions')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.name} data-tag={r.name}>
                      {may.remove && (
                        <td>
                          <input type="checkbox" aria-label={t('repo.selectTag', { tag: r.name })} checked={selected.has(r.name)} onChange={(e) => toggle(r.name, e.currentTarget.checked)} />
                        </td>
                      )}
                      <th scope="row">{r.name}</th>
                      <td>
                        <code title={r.digest}>{shortDigest(r.digest)}</code>
                        {r.referrerCount > 0 && <small class="referrers">{t('repo.referrers', { count: r.referrerCount })}</small>}
                      </td>
                      <td class="platforms">{platformsOf(r.platforms)}</td>
                      <td>{formatSize(r.size)}</td>
                      <td>{formatDate(r.pushedAt)}</td>
                      <td>{formatDate(r.pulledAt)}</td>
                      <td class="pull">
                        {TOOLS.map((tool) => (
                          <CopyCommand text={`${tool} pull ${ref}:${r.name}`} label={t('copy.tag', { tool, tag: r.name })} />
                        ))}
                        {TOOLS.map((tool) => (
                          <CopyCommand text={`${tool} pull ${ref}@${r.digest}`} label={t('copy.digest', { tool })} />
                        ))}
                      </td>
                      <td class="actions">
                        {may.addTag && (
                          <button type="button" onClick={() => setAdding(r.digest)} aria-label={t('repo.addTag.named', { tag: r.name })}>
                            {t('repo.addTag.button')}
                          </button>
                        )}
                        {may.remove && (
                          <button type="button" class="danger" onClick={() => setRemoving({ tag: r.name, digest: r.digest })} aria-label={t('repo.removeTag.named', { tag: r.name })}>
                            {t('repo.removeTag.button')}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={page} pageSize={PAGE_SIZE} total={total} />
            </>
          );
        }}
      />
      <AddTagDialog repo={repo} digest={adding} onClose={() => setAdding(undefined)} onDone={(tag) => changed(t('repo.addTag.done', { tag }))} />
      <RemoveTagDialog repo={repo} target={removing} onClose={() => setRemoving(undefined)} onDone={(tag) => changed(t('repo.removeTag.done', { tag }))} />
      <DeleteArtifactsDialog
        repo={repo}
        digests={deleting}
        onClose={() => setDeleting(undefined)}
        onDone={(deleted, failures) => {
          setDeleting(undefined);
          changed(failures.length === 0 ? t('repo.deleteArtifacts.done', { count: formatNumber(deleted) }) : t('repo.deleteArtifacts.partly', { count: formatNumber(deleted), failures: failures.join('; ') }), failures.length > 0);
        }}
      />
    </>
  );
}
