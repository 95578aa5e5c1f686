import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import { CopyCommand } from '../../components/copy.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Pager } from '../../components/pager.js';
import { Empty, Loaded } from '../../components/states.js';
import { formatDate, formatNumber, formatSize, t } from '../../i18n/index.js';
import { intParam, useLocation, withQuery } from '../../router.js';
import { registryHost } from '../registry-host.js';
import { platformText, referrerKind, shortDigest, TOOLS, type Artifact } from './common.js';
import { AddTagDialog, DeleteArtifactsDialog, RemoveTagDialog, type RepoRef } from './dialogs.js';

const PAGE_SIZE = 50;

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

/**
 * The artifact view (`?view=artifacts`): one entry per digest with all its tags, an index's
 * platforms, and its referrers (signatures, SBOMs) nested under it. Referrers and an index's
 * untagged platform images are not entries of their own. `?digest=` shows one artifact (a
 * search result).
 */
export function ArtifactsView({ repo, may, onChanged }: { repo: RepoRef; may: { addTag: boolean; remove: boolean }; onChanged: () => void }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const only = loc.query.get('digest') ?? '';
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [adding, setAdding] = useState<string | undefined>();
  const [removing, setRemoving] = useState<{ tag: string; digest: string } | undefined>();
  const [deleting, setDeleting] = useState<readonly string[] | undefined>();
  const path = { project_name: repo.project, repository_name: repo.repository };
  const [load, reload] = useLoad(`${repo.project}|${repo.repository}|${page}|${only}`, async () => {
    setSelected(new Set());
    if (only) {
      const { data, error, response } = await api.GET('/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}', { params: { path: { ...path, reference: only } } });
      if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
      return { items: [data], total: 1 };
    }
    const { data, error, response } = await api.GET('/projects/{project_name}/repositories/{repository_name}/artifacts', { params: { path, query: { page, page_size: PAGE_SIZE } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const ref = `${registryHost()}/${repo.project}/${repo.repository}`;
  const changed = (text: string, error = false) => {
    setNotice({ text, error });
    reload();
    onChanged();
  };
  const toggle = (digest: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(digest);
    else next.delete(digest);
    setSelected(next);
  };
  return (
    <>
      <h2>{t('repo.artifacts')}</h2>
      {notice && (
        <p class={`notice${notice.error ? ' error' : ''}`} role={notice.error ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      {only && (
        <p>
          {t('repo.onlyDigest', { digest: shortDigest(only) })} <a href={withQuery(loc, { digest: undefined })}>{t('repo.showAll')}</a>
        </p>
      )}
      <Loaded
        load={load}
        retry={reload}
        done={({ items, total }) => {
          const children = new Set(items.flatMap((a) => a.children));
          const shown = items.filter((a) => only || (a.subject === null && !(a.tags.length === 0 && children.has(a.digest))));
          if (shown.length === 0) return <Empty>{t('repo.empty')}</Empty>;
          const chosen = shown.filter((a) => selected.has(a.digest));
          return (
            <>
              {may.remove && (
                <div class="bulk" role="group" aria-label={t('repo.bulk.label')}>
                  <span>{t('repo.bulk.selected', { count: formatNumber(chosen.length) })}</span>
                  <button type="button" class="danger" disabled={chosen.length === 0} onClick={() => setDeleting(chosen.map((a) => a.digest))}>
                    {t('repo.bulk.deleteArtifacts')}
                  </button>
                </div>
              )}
              <ul class="artifacts">
                {shown.map((a) => (
                  <ArtifactEntry
                    key={a.digest}
                    a={a}
                    refName={ref}
                    may={may}
                    selected={selected.has(a.digest)}
                    onSelect={(on) => toggle(a.digest, on)}
                    onAddTag={() => setAdding(a.digest)}
                    onRemoveTag={(tag) => setRemoving({ tag, digest: a.digest })}
                    onDelete={() => setDeleting([a.digest])}
                  />
                ))}
              </ul>
              {!only && <Pager page={page} pageSize={PAGE_SIZE} total={total} />}
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

interface EntryProps {
  readonly a: Artifact;
  readonly refName: string;
  readonly may: { addTag: boolean; remove: boolean };
  readonly selected: boolean;
  readonly onSelect: (on: boolean) => void;
  readonly onAddTag: () => void;
  readonly onRemoveTag: (tag: string) => void;
  readonly onDelete: () => void;
}

function ArtifactEntry({ a, refName, may, selected, onSelect, onAddTag, onRemoveTag, onDelete }: EntryProps) {
  const id = `artifact-${shortDigest(a.digest)}`;
  const isIndex = INDEX_TYPES.has(a.mediaType);
  const platforms = a.platforms.filter((p) => p.os !== 'unknown');
  return (
    <li class="artifact" aria-labelledby={id} data-digest={a.digest}>
      <div class="artifact-head">
        {may.remove && <input type="checkbox" aria-label={t('repo.selectArtifact', { digest: shortDigest(a.digest) })} checked={selected} onChange={(e) => onSelect(e.currentTarget.checked)} />}
        <h3 id={id}>
          <code title={a.digest}>{shortDigest(a.digest)}</code>
        </h3>
        <span class="badge">{isIndex ? t('repo.kind.index') : a.subject ? referrerKind(a.artifactType, a.mediaType) : t('repo.kind.image')}</span>
        <span class="meta">
          {formatSize(a.size)} · {t('repo.pushedOn', { when: formatDate(a.pushedAt) })} · {t('repo.pulledOn', { when: formatDate(a.pulledAt) })}
        </span>
        <span class="actions">
          {may.addTag && (
            <button type="button" onClick={onAddTag} aria-label={t('repo.addTag.toDigest', { digest: shortDigest(a.digest) })}>
              {t('repo.addTag.button')}
            </button>
          )}
          {may.remove && (
            <button type="button" class="danger" onClick={onDelete} aria-label={t('repo.deleteArtifact.named', { digest: shortDigest(a.digest) })}>
              {t('repo.deleteArtifact.button')}
            </button>
          )}
        </span>
      </div>
      <div class="tag-chips" aria-label={t('repo.tags')} role="group">
        {a.tags.length === 0 && <span class="muted">{t('repo.noTagsHere')}</span>}
        {a.tags.map((tag) => (
          <span class="chip" key={tag}>
            {tag}
            {may.remove && (
              <button type="button" class="icon" aria-label={t('repo.removeTag.named', { tag })} onClick={() => onRemoveTag(tag)}>
                ×
              </button>
            )}
          </span>
        ))}
      </div>
      <div class="pull">
        {TOOLS.map((tool) => (
          <CopyCommand text={`${tool} pull ${refName}@${a.digest}`} label={t('copy.digestOf', { tool, digest: shortDigest(a.digest) })} />
        ))}
      </div>
      {isIndex && (
        <section class="nested" aria-label={t('repo.platformsOf', { digest: shortDigest(a.digest) })}>
          <h4>{t('repo.col.platforms')}</h4>
          <ul class="platform-list">
            {platforms.map((p) => (
              <li key={p.digest}>
                <strong>{platformText(p)}</strong> <code title={p.digest}>{shortDigest(p.digest)}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      {a.referrers.length > 0 && (
        <section class="nested" aria-label={t('repo.referrersOf', { digest: shortDigest(a.digest) })}>
          <h4>{t('repo.referrersTitle')}</h4>
          <ul class="referrer-list">
            {a.referrers.map((r) => (
              <li key={r.digest}>
                <span class="badge">{referrerKind(r.artifactType, r.mediaType)}</span> <code title={r.digest}>{shortDigest(r.digest)}</code>{' '}
                <small>
                  {r.artifactType ?? r.mediaType} · {formatSize(r.size)}
                </small>
              </li>
            ))}
          </ul>
        </section>
      )}
    </li>
  );
}
