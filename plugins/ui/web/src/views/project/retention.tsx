import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { paths } from '../../api/schema.js';
import { Confirm } from '../../components/confirm.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Notice } from '../../components/notice.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { Empty, Loaded } from '../../components/states.js';
import { formatDate, formatNumber, t, type MessageKey } from '../../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../../router.js';
import { SelectorFields, type Selector } from './selectors.js';
import type { Load } from '../../components/load.js';

type PolicyPath = paths['/projects/{project_name}/retention'];
type Policy = PolicyPath['get']['responses'][200]['content']['application/json'];
type PolicyBody = PolicyPath['put']['requestBody']['content']['application/json'];
type RuleInput = PolicyBody['rules'][number];
type Execution = paths['/projects/{project_name}/retention/executions']['get']['responses'][200]['content']['application/json'][number];
const TEMPLATES = ['latestPushedK', 'latestPulledN', 'nDaysSinceLastPush', 'nDaysSinceLastPull', 'always'] as const;
const PAGE_SIZE = 10;

/**
 * A project's tag retention: the policy's rules (an artifact is kept when any rule keeps it)
 * and schedule, a dry run that deletes nothing, "run now" after a confirmation, and the
 * executions with each repository's task and its log. Executions refresh while one runs. The
 * open execution is in the URL (`?tab=retention&execution=<id>`).
 */
export function ProjectRetention({ project }: { project: string }) {
  const [notice, setNotice] = useState<string | undefined>();
  const [round, setRound] = useState(0);
  const [load, reload] = useLoad(`retention|${project}`, async () => {
    const { data, error, response } = await api.GET('/projects/{project_name}/retention', { params: { path: { project_name: project } } });
    if (response.status === 404) return undefined;
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  return (
    <section aria-labelledby="retention-title">
      <h2 id="retention-title">{t('retention.title')}</h2>
      <p class="hint">{t('retention.intro')}</p>
      <Notice text={notice} />
      <Loaded
        load={load}
        retry={reload}
        done={(policy) => (
          <PolicyEditor
            project={project}
            policy={policy}
            onSaved={() => {
              setNotice(t('retention.saved'));
              reload();
            }}
            onRun={(dryRun) => {
              setNotice(t(dryRun ? 'retention.dryRunStarted' : 'retention.runStarted'));
              setRound((r) => r + 1);
            }}
          />
        )}
      />
      <Executions project={project} round={round} />
    </section>
  );
}

/** A rule with another template: `always` takes no value, the others need one. */
function withTemplate(r: RuleInput, template: RuleInput['template']): RuleInput {
  const { value, ...rest } = r;
  return template === 'always' ? { ...rest, template } : { ...rest, template, value: value ?? 10 };
}

const emptyRule = (): RuleInput => ({
  template: 'latestPushedK',
  value: 10,
  repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }],
  tags: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }],
});

function PolicyEditor({ project, policy, onSaved, onRun }: { project: string; policy: Policy | undefined; onSaved: () => void; onRun: (dryRun: boolean) => void }) {
  const [rules, setRules] = useState<RuleInput[]>(policy?.rules.map((r) => ({ ...r })) ?? []);
  const [cron, setCron] = useState(policy?.cron ?? '');
  const [error, setError] = useState<string | undefined>();
  const [confirmRun, setConfirmRun] = useState(false);
  const change = (i: number, r: RuleInput) => setRules(rules.map((old, j) => (j === i ? r : old)));
  const save = async (e: Event) => {
    e.preventDefault();
    const { error: failure } = await api.PUT('/projects/{project_name}/retention', { params: { path: { project_name: project } }, body: { rules, cron: cron.trim() || null } });
    if (failure) return setError(errorMessage(failure));
    setError(undefined);
    onSaved();
  };
  const run = async (dryRun: boolean): Promise<string | undefined> => {
    const { error: failure } = await api.POST('/projects/{project_name}/retention/executions', { params: { path: { project_name: project } }, body: { dryRun } });
    if (failure) return errorMessage(failure);
    onRun(dryRun);
    return undefined;
  };
  return (
    <>
      <form class="rules" onSubmit={save} aria-labelledby="retention-rules-title">
        <h3 id="retention-rules-title">{t('retention.rules')}</h3>
        <Notice text={error} error />
        {rules.length === 0 && <Empty>{t('retention.noRules')}</Empty>}
        {rules.map((r, i) => (
          <fieldset class="rule" key={i}>
            <legend>{t('retention.ruleN', { n: i + 1 })}</legend>
            <label for={`ret-${i}-template`}>{t('retention.template')}</label>
            <select id={`ret-${i}-template`} value={r.template} onChange={(e) => change(i, withTemplate(r, e.currentTarget.value as RuleInput['template']))}>
              {TEMPLATES.map((tpl) => (
                <option value={tpl}>{t(`retention.tpl.${tpl}` as MessageKey, { n: 'N' })}</option>
              ))}
            </select>
            {r.template !== 'always' && (
              <>
                <label for={`ret-${i}-value`}>{t('retention.value')}</label>
                <input id={`ret-${i}-value`} type="number" min={1} max={100000} required value={r.value ?? 0} onInput={(e) => change(i, { ...r, value: Number(e.currentTarget.value) })} />
              </>
            )}
            <SelectorFields prefix={`ret-${i}-repo`} label={t('rules.repositories')} value={(r.repositories[0] ?? { kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }) as Selector} onChange={(s) => change(i, { ...r, repositories: [s as RuleInput['repositories'][number], ...r.repositories.slice(1)] })} matches="repoMatches" excludes="repoExcludes" />
            <SelectorFields prefix={`ret-${i}-tag`} label={t('rules.tags')} value={(r.tags[0] ?? { kind: 'doublestar', decoration: 'matches', pattern: '**' }) as Selector} onChange={(s) => change(i, { ...r, tags: [s as RuleInput['tags'][number], ...r.tags.slice(1)] })} matches="matches" excludes="excludes" />
            <label class="check">
              <input type="checkbox" checked={r.untagged ?? false} onChange={(e) => change(i, { ...r, untagged: e.currentTarget.checked })} />
              {t('retention.untagged')}
            </label>
            <label class="check">
              <input type="checkbox" checked={!r.disabled} onChange={(e) => change(i, { ...r, disabled: !e.currentTarget.checked })} />
              {t('rules.enabled')}
            </label>
            <button type="button" class="danger" aria-label={t('retention.removeRule', { n: i + 1 })} onClick={() => setRules(rules.filter((_, j) => j !== i))}>
              {t('retention.remove')}
            </button>
          </fieldset>
        ))}
        <button type="button" onClick={() => setRules([...rules, emptyRule()])}>
          {t('retention.addRule')}
        </button>
        <label for="ret-cron">{t('retention.schedule')}</label>
        <input id="ret-cron" value={cron} placeholder="0 3 * * *" aria-describedby="ret-cron-help" onInput={(e) => setCron(e.currentTarget.value)} />
        <small id="ret-cron-help">{t('retention.scheduleHelp')}</small>
        <div class="buttons">
          <button type="submit" class="primary">
            {t('retention.save')}
          </button>
        </div>
      </form>
      {policy && (
        <div class="buttons start">
          <span class="hint">{t('retention.saveFirst')}</span>
          <button type="button" onClick={async () => setError(await run(true))}>
            {t('retention.dryRun')}
          </button>
          <button type="button" class="danger" onClick={() => setConfirmRun(true)}>
            {t('retention.runNow')}
          </button>
        </div>
      )}
      <Confirm open={confirmRun} title={t('retention.runTitle', { project })} body={t('retention.runBody', { project })} confirmLabel={t('retention.runNow')} onClose={() => setConfirmRun(false)} action={() => run(false)} />
    </>
  );
}

const running = (e: Execution) => e.status === 'pending' || e.status === 'running' || e.status === 'stopping';

function Executions({ project, round }: { project: string; round: number }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const open = Number(loc.query.get('execution')) || undefined;
  const [poll, setPoll] = useState(0);
  const [load, reload] = useLoad(`retention-exec|${project}|${page}|${round}|${poll}`, async () => {
    const { data, error, response } = await api.GET('/projects/{project_name}/retention/executions', { params: { path: { project_name: project }, query: { page, page_size: PAGE_SIZE } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const [stopError, setStopError] = useState<string | undefined>();
  const stop = async (id: number) => {
    const { error } = await api.POST('/projects/{project_name}/retention/executions/{execution_id}/stop', { params: { path: { project_name: project, execution_id: id } } });
    setStopError(error ? errorMessage(error) : undefined);
    setPoll((n) => n + 1);
  };
  // A refresh keeps the rows on screen until the new answer is in.
  const [shown, setShown] = useState<Load<{ items: Execution[]; total: number }>>(load);
  useEffect(() => {
    if (load.state !== 'loading' || shown.state !== 'done') setShown(load);
  }, [load]);
  // While an execution runs, its status and counts refresh every two seconds.
  const active = shown.state === 'done' && shown.value.items.some(running);
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => setPoll((n) => n + 1), 2000);
    return () => clearTimeout(timer);
  }, [active, poll]);
  return (
    <section aria-labelledby="retention-exec-title">
      <h3 id="retention-exec-title">{t('retention.executions')}</h3>
      <Notice text={stopError} error />
      <PagedTable
        load={shown}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={t('retention.noExecutions')}
        head={() => (
          <>
            <th scope="col">{t('retention.col.id')}</th>
            <th scope="col">{t('retention.col.kind')}</th>
            <th scope="col">{t('retention.col.status')}</th>
            <th scope="col">{t('retention.col.counts')}</th>
            <th scope="col">{t('retention.col.started')}</th>
            <ActionsHeader label={t('projects.col.actions')} />
          </>
        )}
        row={(e) => (
          <tr key={e.id}>
            <td>#{e.id}</td>
            <td>
              {e.dryRun ? t('retention.kind.dryRun') : t('retention.kind.run')} · {t(`retention.trigger.${e.trigger}` as MessageKey)}
            </td>
            <td>
              <span class={`badge status-${e.status}`}>{t(`retention.status.${e.status}` as MessageKey)}</span>
            </td>
            <td>{t(e.dryRun ? 'retention.countsDry' : 'retention.counts', { total: formatNumber(e.total), retained: formatNumber(e.retained), deleted: formatNumber(e.deleted) })}</td>
            <td>
              {formatDate(e.startedAt)}
              {e.startedBy && <small class="referrers">{e.startedBy}</small>}
            </td>
            <td class="actions">
              {running(e) && e.status !== 'stopping' && (
                <>
                  <button type="button" class="danger" aria-label={t('retention.stopNamed', { id: e.id })} onClick={() => void stop(e.id)}>
                    {t('retention.stop')}
                  </button>{' '}
                </>
              )}
              <a href={withQuery(loc, { execution: open === e.id ? undefined : e.id })} aria-expanded={open === e.id ? 'true' : 'false'} aria-label={t('retention.tasksOf', { id: e.id })}>
                {t('retention.tasks')}
              </a>
            </td>
          </tr>
        )}
      />
      {open !== undefined && <Tasks project={project} execution={open} dryRun={shown.state === 'done' && shown.value.items.some((e) => e.id === open && e.dryRun)} refresh={poll} onClose={() => navigate(withQuery(loc, { execution: undefined }), { replace: true })} />}
    </section>
  );
}

function Tasks({ project, execution, dryRun, refresh, onClose }: { project: string; execution: number; dryRun: boolean; refresh: number; onClose: () => void }) {
  const [load, reload] = useLoad(`retention-tasks|${project}|${execution}|${refresh}`, async () => {
    const { data, error, response } = await api.GET('/projects/{project_name}/retention/executions/{execution_id}/tasks', {
      params: { path: { project_name: project, execution_id: execution }, query: { page_size: 100 } },
    });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  const logHref = (task: number) => `/api/v1/projects/${encodeURIComponent(project)}/retention/executions/${execution}/tasks/${task}/log`;
  return (
    <section aria-labelledby="retention-tasks-title" class="panel">
      <div class="title-row">
        <h4 id="retention-tasks-title">{t('retention.tasksOf', { id: execution })}</h4>
        <button type="button" onClick={onClose}>
          {t('retention.close')}
        </button>
      </div>
      <Loaded
        load={load}
        retry={reload}
        done={(tasks) =>
          tasks.length === 0 ? (
            <Empty>{t('retention.noTasks')}</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('retention.col.repository')}</th>
                  <th scope="col">{t('retention.col.status')}</th>
                  <th scope="col">{t('retention.col.counts')}</th>
                  <th scope="col">{t('retention.col.log')}</th>
                </tr>
              </thead>
              <tbody>
                {tasks.map((task) => (
                  <tr key={task.id}>
                    <td>{task.repository}</td>
                    <td>
                      <span class={`badge status-${task.status}`}>{t(`retention.status.${task.status}` as MessageKey)}</span>
                      {task.error && <small class="referrers">{task.error}</small>}
                    </td>
                    <td>{t(dryRun ? 'retention.countsDry' : 'retention.counts', { total: formatNumber(task.total), retained: formatNumber(task.retained), deleted: formatNumber(task.deleted) })}</td>
                    <td>
                      <a href={logHref(task.id)} target="_blank" rel="noopener" aria-label={t('retention.logOf', { repository: task.repository })}>
                        {t('retention.log')}
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      />
    </section>
  );
}

