import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { paths } from '../../api/schema.js';
import { Confirm } from '../../components/confirm.js';
import { FormDialog } from '../../components/form-dialog.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Notice } from '../../components/notice.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { t } from '../../i18n/index.js';
import { intParam, useLocation } from '../../router.js';
import { SelectorFields, selectorText, type Selector } from './selectors.js';

type Rules = paths['/projects/{project_name}/immutable-tag-rules'];
type Rule = Rules['get']['responses'][200]['content']['application/json'][number];
type RuleBody = Rules['post']['requestBody']['content']['application/json'];
const PAGE_SIZE = 20;

/**
 * A project's tag immutability rules, in priority order: a tag a rule matches cannot be
 * overwritten or deleted. Create, edit, enable or disable, delete (after a confirmation naming
 * the rule). Offered to project admins and maintainers, the roles the API lets manage them.
 */
export function ProjectImmutability({ project }: { project: string }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const [notice, setNotice] = useState<string | undefined>();
  const [editing, setEditing] = useState<Rule | 'new' | undefined>();
  const [deleting, setDeleting] = useState<Rule | undefined>();
  const [load, reload] = useLoad(`immutable|${project}|${page}`, async () => {
    const { data, error, response } = await api.GET('/projects/{project_name}/immutable-tag-rules', { params: { path: { project_name: project }, query: { page, page_size: PAGE_SIZE } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const path = (id: number) => ({ params: { path: { project_name: project, rule_id: id } } });
  const describe = (r: Rule) => `${r.repositories.map((s) => selectorText(s, 'repoExcludes')).join(', ')} : ${r.tags.map((s) => selectorText(s, 'excludes')).join(', ')}`;
  const toggle = async (r: Rule) => {
    const { error } = await api.PATCH('/projects/{project_name}/immutable-tag-rules/{rule_id}', { ...path(r.id), body: { enabled: !r.enabled } });
    setNotice(error ? errorMessage(error) : t(r.enabled ? 'immutable.disabled' : 'immutable.enabled', { rule: describe(r) }));
    reload();
  };

  return (
    <section aria-labelledby="immutable-title">
      <div class="title-row">
        <h2 id="immutable-title">{t('immutable.title')}</h2>
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          {t('immutable.new')}
        </button>
      </div>
      <p class="hint">{t('immutable.intro')}</p>
      <Notice text={notice} />
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={t('immutable.empty')}
        head={() => (
          <>
            <th scope="col">{t('rules.priority')}</th>
            <th scope="col">{t('rules.repositories')}</th>
            <th scope="col">{t('rules.tags')}</th>
            <th scope="col">{t('rules.status')}</th>
            <ActionsHeader label={t('projects.col.actions')} />
          </>
        )}
        row={(r) => (
          <tr key={r.id}>
            <td>{r.priority}</td>
            <td>
              <code>{r.repositories.map((s) => selectorText(s, 'repoExcludes')).join(', ')}</code>
            </td>
            <td>
              <code>{r.tags.map((s) => selectorText(s, 'excludes')).join(', ')}</code>
            </td>
            <td>
              <span class={`badge ${r.enabled ? 'public' : 'private'}`}>{r.enabled ? t('rules.on') : t('rules.off')}</span>
            </td>
            <td class="actions">
              <button type="button" aria-label={t(r.enabled ? 'immutable.disableNamed' : 'immutable.enableNamed', { rule: describe(r) })} onClick={() => void toggle(r)}>
                {r.enabled ? t('rules.disable') : t('rules.enable')}
              </button>{' '}
              <button type="button" aria-label={t('immutable.editNamed', { rule: describe(r) })} onClick={() => setEditing(r)}>
                {t('rules.edit')}
              </button>{' '}
              <button type="button" class="danger" aria-label={t('immutable.deleteNamed', { rule: describe(r) })} onClick={() => setDeleting(r)}>
                {t('confirm.delete')}
              </button>
            </td>
          </tr>
        )}
      />
      {editing && (
        <RuleForm
          project={project}
          rule={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(created) => {
            setEditing(undefined);
            setNotice(t(created ? 'immutable.created' : 'immutable.saved'));
            reload();
          }}
        />
      )}
      <Confirm
        open={deleting !== undefined}
        title={t('immutable.deleteTitle')}
        body={t('immutable.deleteBody', { rule: deleting ? describe(deleting) : '' })}
        confirmLabel={t('confirm.delete')}
        onClose={() => setDeleting(undefined)}
        action={async () => {
          if (!deleting) return undefined;
          const { error } = await api.DELETE('/projects/{project_name}/immutable-tag-rules/{rule_id}', path(deleting.id));
          if (error) return errorMessage(error);
          setNotice(t('immutable.deleted', { rule: describe(deleting) }));
          reload();
          return undefined;
        }}
      />
    </section>
  );
}

/** Create or edit a rule: its first repository and tag selectors (others it has are kept), priority, enabled. */
function RuleForm({ project, rule, onClose, onSaved }: { project: string; rule: Rule | undefined; onClose: () => void; onSaved: (created: boolean) => void }) {
  const [repo, setRepo] = useState<Selector>(rule?.repositories[0] ?? { kind: 'doublestar', decoration: 'repoMatches', pattern: '**' });
  const [tag, setTag] = useState<Selector>(rule?.tags[0] ?? { kind: 'doublestar', decoration: 'matches', pattern: '' });
  const [priority, setPriority] = useState(String(rule?.priority ?? 0));
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const submit = async (): Promise<string | undefined> => {
    const body = {
      priority: Number(priority),
      enabled,
      repositories: [repo, ...(rule?.repositories.slice(1) ?? [])],
      tags: [tag, ...(rule?.tags.slice(1) ?? [])],
    } as RuleBody;
    const { error } = rule
      ? await api.PUT('/projects/{project_name}/immutable-tag-rules/{rule_id}', { params: { path: { project_name: project, rule_id: rule.id } }, body })
      : await api.POST('/projects/{project_name}/immutable-tag-rules', { params: { path: { project_name: project } }, body });
    if (error) return errorMessage(error);
    onSaved(!rule);
    return undefined;
  };
  // Mounted while the rule is edited, so open from the start.
  return (
    <FormDialog open title={rule ? t('immutable.editTitle') : t('immutable.newTitle')} submitLabel={rule ? t('rules.save') : t('rules.create')} onClose={onClose} submit={submit}>
      <SelectorFields prefix="imm-repo" label={t('rules.repositories')} value={repo} onChange={setRepo} matches="repoMatches" excludes="repoExcludes" />
      <SelectorFields prefix="imm-tag" label={t('rules.tags')} value={tag} onChange={setTag} matches="matches" excludes="excludes" />
      <label for="imm-priority">{t('rules.priority')}</label>
      <input id="imm-priority" type="number" min={0} max={1000000} value={priority} aria-describedby="imm-priority-help" onInput={(e) => setPriority(e.currentTarget.value)} />
      <small id="imm-priority-help">{t('immutable.priorityHelp')}</small>
      <label class="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        {t('rules.enabled')}
      </label>
    </FormDialog>
  );
}
