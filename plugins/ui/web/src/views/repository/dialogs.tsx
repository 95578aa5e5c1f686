import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { Dialog } from '../../components/dialog.js';
import { formatNumber, t } from '../../i18n/index.js';
import { shortDigest } from './common.js';

/** The confirmations and forms of the repository page: add and remove a tag, delete artifacts, delete a repository. */

export interface RepoRef {
  readonly project: string;
  /** The name inside the project (`app/web`). */
  readonly repository: string;
}

const artifactPath = (r: RepoRef, reference: string) => ({ project_name: r.project, repository_name: r.repository, reference });

function Failure({ error }: { error: string | undefined }) {
  return error ? (
    <p class="notice error" role="alert">
      {error}
    </p>
  ) : null;
}

function Buttons({ onCancel, children }: { onCancel: () => void; children: ComponentChildren }) {
  return (
    <div class="buttons">
      <button type="button" onClick={onCancel}>
        {t('confirm.cancel')}
      </button>
      {children}
    </div>
  );
}

export function AddTagDialog({ repo, digest, onClose, onDone }: { repo: RepoRef; digest: string | undefined; onClose: () => void; onDone: (tag: string) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const close = () => {
    setName('');
    setError(undefined);
    onClose();
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!digest) return;
    setBusy(true);
    const { error: failure } = await api.POST('/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags', {
      params: { path: artifactPath(repo, digest) },
      body: { name },
    });
    setBusy(false);
    if (failure) return setError(errorMessage(failure));
    const added = name;
    close();
    onDone(added);
  };
  return (
    <Dialog open={digest !== undefined} title={t('repo.addTag.title', { digest: shortDigest(digest ?? '') })} onClose={close}>
      <form onSubmit={submit}>
        <Failure error={error} />
        <label for="new-tag">{t('repo.addTag.name')}</label>
        <input id="new-tag" required maxLength={128} pattern="[A-Za-z0-9_][A-Za-z0-9._\-]{0,127}" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <Buttons onCancel={close}>
          <button type="submit" class="primary" disabled={busy}>
            {t('repo.addTag.submit')}
          </button>
        </Buttons>
      </form>
    </Dialog>
  );
}

export function RemoveTagDialog({ repo, target, onClose, onDone }: { repo: RepoRef; target: { tag: string; digest: string } | undefined; onClose: () => void; onDone: (tag: string) => void }) {
  const [error, setError] = useState<string | undefined>();
  const close = () => {
    setError(undefined);
    onClose();
  };
  const confirm = async () => {
    if (!target) return;
    const { error: failure } = await api.DELETE('/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}', {
      params: { path: { ...artifactPath(repo, target.digest), tag_name: target.tag } },
    });
    if (failure) return setError(errorMessage(failure));
    close();
    onDone(target.tag);
  };
  return (
    <Dialog open={target !== undefined} title={t('repo.removeTag.title', { tag: target?.tag ?? '' })} onClose={close}>
      <p>{t('repo.removeTag.body', { tag: target?.tag ?? '', digest: shortDigest(target?.digest ?? '') })}</p>
      <Failure error={error} />
      <Buttons onCancel={close}>
        <button type="button" class="danger" onClick={confirm}>
          {t('repo.removeTag.confirm')}
        </button>
      </Buttons>
    </Dialog>
  );
}

type Named = { digest: string; tags: readonly string[]; referrers: number } | { digest: string; missing: true };

/**
 * One confirmation for every selected artifact, naming each with all the tags that go with it
 * (read fresh when the dialog opens: a row shows one tag, the artifact may have more).
 */
export function DeleteArtifactsDialog({ repo, digests, onClose, onDone }: { repo: RepoRef; digests: readonly string[] | undefined; onClose: () => void; onDone: (deleted: number, failures: string[]) => void }) {
  const [named, setNamed] = useState<Named[] | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setNamed(undefined);
    if (!digests) return;
    let live = true;
    void Promise.all(
      digests.map(async (digest): Promise<Named> => {
        const { data } = await api.GET('/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}', { params: { path: artifactPath(repo, digest) } });
        return data ? { digest, tags: data.tags, referrers: data.referrers.length } : { digest, missing: true };
      }),
    ).then((list) => live && setNamed(list));
    return () => {
      live = false;
    };
  }, [digests?.join(',')]);
  const confirm = async () => {
    if (!digests) return;
    setBusy(true);
    const failures: string[] = [];
    let deleted = 0;
    // One after the other: each goes through the policy gates; a refusal names its artifact.
    for (const digest of digests) {
      const { error } = await api.DELETE('/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}', { params: { path: artifactPath(repo, digest) } });
      if (error) failures.push(`${shortDigest(digest)}: ${errorMessage(error)}`);
      else deleted++;
    }
    setBusy(false);
    onDone(deleted, failures);
  };
  const count = digests?.length ?? 0;
  return (
    <Dialog open={digests !== undefined} title={t('repo.deleteArtifacts.title', { count: formatNumber(count) })} onClose={onClose}>
      <p>{t('repo.deleteArtifacts.body')}</p>
      {named === undefined ? (
        <p role="status">{t('state.loading')}</p>
      ) : (
        <ul class="doomed">
          {named.map((a) => (
            <li key={a.digest}>
              <code title={a.digest}>{shortDigest(a.digest)}</code>{' '}
              {'missing' in a
                ? t('repo.deleteArtifacts.gone')
                : a.tags.length > 0
                  ? t('repo.deleteArtifacts.tags', { tags: a.tags.join(', ') })
                  : t('repo.deleteArtifacts.untagged')}
              {'referrers' in a && a.referrers > 0 && <> {t('repo.deleteArtifacts.referrers', { count: formatNumber(a.referrers) })}</>}
            </li>
          ))}
        </ul>
      )}
      <Buttons onCancel={onClose}>
        <button type="button" class="danger" onClick={confirm} disabled={busy || named === undefined}>
          {t('repo.deleteArtifacts.confirm', { count: formatNumber(count) })}
        </button>
      </Buttons>
    </Dialog>
  );
}

type Repository = components['schemas']['Repository'];

export function DeleteRepositoryDialog({ repository, onClose, onDone }: { repository: Repository | undefined; onClose: () => void; onDone: (name: string) => void }) {
  const [error, setError] = useState<string | undefined>();
  const name = repository?.name ?? '';
  const close = () => {
    setError(undefined);
    onClose();
  };
  const confirm = async () => {
    if (!repository) return;
    const project = repository.project;
    const { error: failure } = await api.DELETE('/projects/{project_name}/repositories/{repository_name}', {
      params: { path: { project_name: project, repository_name: name.slice(project.length + 1) } },
    });
    if (failure) return setError(errorMessage(failure));
    close();
    onDone(name);
  };
  return (
    <Dialog open={repository !== undefined} title={t('repos.delete.title', { name })} onClose={close}>
      <p>{t('repos.delete.body', { name, artifacts: formatNumber(repository?.artifactCount ?? 0), tags: formatNumber(repository?.tagCount ?? 0) })}</p>
      <Failure error={error} />
      <Buttons onCancel={close}>
        <button type="button" class="danger" onClick={confirm}>
          {t('confirm.delete')}
        </button>
      </Buttons>
    </Dialog>
  );
}
