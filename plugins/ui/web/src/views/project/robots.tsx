import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { CopyCommand } from '../../components/copy.js';
import { Confirm } from '../../components/confirm.js';
import { Dialog } from '../../components/dialog.js';
import { FormDialog } from '../../components/form-dialog.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Notice } from '../../components/notice.js';
import { listQuery } from '../../components/list-query.js';
import { NameSearch } from '../../components/name-search.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { formatDate, t, type MessageKey } from '../../i18n/index.js';
import { intParam, useLocation } from '../../router.js';
import { useSession } from '../../session-context.js';
import { loadProject, mayManageProject, type ActionNotice } from './access.js';
import './project.css';

type Robot = components['schemas']['Robot'];
type Access = { resource: string; action: string };
const PAGE_SIZE = 20;
/** Columns the server sorts robots by (listProjectRobots' `sort` fields). */
const SORTS = ['name', 'createdAt'];

/** What a project robot may be given (rbac-projects' README), in the order the form shows it. */
const GRANTS: readonly { resource: string; actions: readonly string[] }[] = [
  { resource: 'repository', actions: ['pull', 'push', 'delete', 'read', 'list'] },
  { resource: 'artifact', actions: ['read', 'list', 'delete'] },
  { resource: 'tag', actions: ['create', 'delete', 'list'] },
  { resource: 'member', actions: ['read', 'list'] },
  { resource: 'robot', actions: ['read', 'list'] },
  { resource: 'project', actions: ['read'] },
];
const grantKey = (a: Access) => `${a.resource}:${a.action}`;
const resourceLabel = (resource: string) => t(`robots.resource.${resource}` as MessageKey);
const actionLabel = (action: string) => t(`robots.action.${action}` as MessageKey);

/** "Repository: pull, push; Tag: list" for a robot's permissions in this project. */
function permissionText(robot: Robot): string {
  const byResource = new Map<string, string[]>();
  for (const p of robot.permissions) for (const a of p.access) byResource.set(a.resource, [...(byResource.get(a.resource) ?? []), actionLabel(a.action)]);
  return [...byResource].map(([r, actions]) => `${resourceLabel(r)}: ${actions.join(', ')}`).join('; ');
}

/** The secret of a robot, shown once after create or refresh. */
interface Revealed {
  readonly robot: Robot;
  readonly secret: string;
}

/**
 * A project's robot accounts. Members may read the list; project admins and system
 * administrators are offered create (with permissions and expiry), refresh secret, disable or
 * enable, and delete. A secret is shown once, in a dialog with a copy button; closing the dialog
 * forgets it (the server keeps only its hash).
 */
export function ProjectRobots({ project }: { project: string }) {
  const loc = useLocation();
  const { user } = useSession();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const [notice, setNotice] = useState<ActionNotice | undefined>();
  const [creating, setCreating] = useState(false);
  const [revealed, setRevealed] = useState<Revealed | undefined>();
  const [confirming, setConfirming] = useState<{ kind: 'delete' | 'refresh'; robot: Robot } | undefined>();
  const sort = listSort(loc, SORTS, 'name');
  const [load, reload] = useLoad(`${project}|${page}|${name}|${sort.param}`, async () => {
    const [info, list] = await Promise.all([
      loadProject(project),
      api.GET('/projects/{project_name}/robots', {
        params: { path: { project_name: project }, query: listQuery(page, PAGE_SIZE, sort, { field: 'name', text: name }) },
      }),
    ]);
    if (list.error || !list.data) throw new ApiFailure(errorMessage(list.error), list.response.status);
    return { manage: mayManageProject(user, info.currentUserRole), items: list.data, total: totalOf(list.response) };
  });
  const manage = load.state === 'done' && load.value.manage;
  const path = (robot: Robot) => ({ path: { project_name: project, robot_id: robot.id } });

  const setDisabled = async (robot: Robot, disabled: boolean) => {
    const { error } = await api.PATCH('/projects/{project_name}/robots/{robot_id}', { params: path(robot), body: { disabled } });
    setNotice(error ? { text: () => errorMessage(error), error: true } : { text: () => t(disabled ? 'robots.disabledDone' : 'robots.enabledDone', { name: robot.name }) });
    reload();
  };
  // The dialog closes before the secret shows; a failure shows above the list, like the other actions' ones.
  const confirmed = async (): Promise<undefined> => {
    if (!confirming) return undefined;
    const { kind, robot } = confirming;
    if (kind === 'delete') {
      const { error } = await api.DELETE('/projects/{project_name}/robots/{robot_id}', { params: path(robot) });
      setConfirming(undefined);
      setNotice(error ? { text: () => errorMessage(error), error: true } : { text: () => t('robots.deleted', { name: robot.name }) });
      reload();
      return undefined;
    }
    const { data, error } = await api.POST('/projects/{project_name}/robots/{robot_id}/secret', { params: path(robot) });
    setConfirming(undefined);
    if (error || !data) {
      setNotice({ text: () => errorMessage(error), error: true });
      return undefined;
    }
    setNotice(undefined);
    setRevealed({ robot: data.robot, secret: data.secret });
    return undefined;
  };

  return (
    <>
      <div class="title-row">
        <h2>{t('robots.title')}</h2>
        {manage && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            {t('robots.new')}
          </button>
        )}
      </div>
      <Notice text={notice?.text()} error={notice?.error} />
      <NameSearch label={t('robots.search')} placeholder={t('members.searchPlaceholder')} />
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('robots.emptySearch', { q: name }) : t('robots.empty')}
        head={({ manage: may }) => (
          <>
            <SortHeader column="name" label={t('robots.col.name')} sort={sort} />
            <th scope="col">{t('robots.col.permissions')}</th>
            <th scope="col">{t('robots.col.status')}</th>
            <th scope="col">{t('robots.col.expires')}</th>
            <SortHeader column="createdAt" label={t('robots.col.created')} sort={sort} />
            {may && <ActionsHeader label={t('projects.col.actions')} />}
          </>
        )}
        row={(r, { manage: may }) => (
          <tr key={r.id}>
            <th scope="row">
              {r.name}
              {r.description && <span class="referrers">{r.description}</span>}
            </th>
            <td>{permissionText(r)}</td>
            <td>{robotStatus(r)}</td>
            <td>{r.expiresAt ? formatDate(r.expiresAt) : t('robots.never')}</td>
            <td>
              {formatDate(r.createdAt)}
              <span class="referrers">{t('robots.by', { name: r.creator })}</span>
            </td>
            {may && (
              <td class="actions">
                <button type="button" aria-label={t('robots.refreshNamed', { name: r.name })} onClick={() => setConfirming({ kind: 'refresh', robot: r })}>
                  {t('robots.refresh')}
                </button>{' '}
                <button type="button" aria-label={t(r.disabled ? 'robots.enableNamed' : 'robots.disableNamed', { name: r.name })} onClick={() => void setDisabled(r, !r.disabled)}>
                  {t(r.disabled ? 'robots.enable' : 'robots.disable')}
                </button>{' '}
                <button type="button" class="danger" aria-label={t('robots.deleteNamed', { name: r.name })} onClick={() => setConfirming({ kind: 'delete', robot: r })}>
                  {t('robots.delete')}
                </button>
              </td>
            )}
          </tr>
        )}
      />
      <CreateRobot
        project={project}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(r) => {
          setCreating(false);
          setNotice({ text: () => t('robots.created', { name: r.robot.name }) });
          setRevealed(r);
          reload();
        }}
      />
      <SecretDialog revealed={revealed} onClose={() => setRevealed(undefined)} />
      <Confirm
        open={confirming !== undefined}
        title={t(confirming?.kind === 'refresh' ? 'robots.confirmRefresh.title' : 'robots.confirmDelete.title', { name: confirming?.robot.name ?? '' })}
        body={t(confirming?.kind === 'refresh' ? 'robots.confirmRefresh.body' : 'robots.confirmDelete.body', { name: confirming?.robot.name ?? '' })}
        confirmLabel={t(confirming?.kind === 'refresh' ? 'robots.refresh' : 'robots.delete')}
        danger={confirming?.kind === 'delete'}
        onClose={() => setConfirming(undefined)}
        action={confirmed}
      />
    </>
  );
}

function robotStatus(r: Robot): string {
  if (r.disabled) return t('robots.status.disabled');
  if (r.expiresAt && Date.parse(r.expiresAt) < Date.now()) return t('robots.status.expired');
  return t('robots.status.enabled');
}

function SecretDialog({ revealed, onClose }: { revealed: Revealed | undefined; onClose: () => void }) {
  return (
    <Dialog open={revealed !== undefined} title={t('robots.secret.title', { name: revealed?.robot.name ?? '' })} onClose={onClose}>
      {revealed && (
        <div class="secret-box">
          <p class="warning" role="alert">
            {t('robots.secret.warning')}
          </p>
          <span>{t('robots.secret.name')}</span>
          <CopyCommand text={revealed.robot.name} label={t('robots.secret.copyName')} />
          <span>{t('robots.secret.secret')}</span>
          <CopyCommand text={revealed.secret} label={t('robots.secret.copy')} />
          <div class="buttons">
            <button type="button" class="primary" onClick={onClose}>
              {t('robots.secret.done')}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

function CreateRobot({ project, open, onClose, onCreated }: { project: string; open: boolean; onClose: () => void; onCreated: (r: Revealed) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [days, setDays] = useState('30');
  const [never, setNever] = useState(false);
  const [granted, setGranted] = useState<ReadonlySet<string>>(new Set(['repository:pull']));
  const toggle = (a: Access, on: boolean) => {
    const next = new Set(granted);
    if (on) next.add(grantKey(a));
    else next.delete(grantKey(a));
    // As in Harbor, push needs pull: granting push grants pull, taking pull away takes push.
    if (on && grantKey(a) === 'repository:push') next.add('repository:pull');
    if (!on && grantKey(a) === 'repository:pull') next.delete('repository:push');
    setGranted(next);
  };
  const submit = async (): Promise<string | undefined> => {
    const access = [...granted].map((k) => {
      const [resource, action] = k.split(':') as [string, string];
      return { resource, action };
    });
    if (access.length === 0) return t('robots.create.nonePicked');
    const { data, error } = await api.POST('/projects/{project_name}/robots', {
      params: { path: { project_name: project } },
      body: {
        name: name.trim(),
        ...(description ? { description } : {}),
        duration: never ? -1 : Number(days),
        permissions: [{ kind: 'project', namespace: project, access }],
      },
    });
    if (error || !data) return errorMessage(error);
    setName('');
    setDescription('');
    setGranted(new Set(['repository:pull']));
    onCreated({ robot: data.robot, secret: data.secret });
    return undefined;
  };
  return (
    <FormDialog open={open} title={t('robots.create.title', { project })} submitLabel={t('robots.create.submit')} onClose={onClose} submit={submit}>
      <label for="robot-name">{t('robots.create.name')}</label>
      <input id="robot-name" required maxLength={64} pattern="[a-z0-9]+([._\-][a-z0-9]+)*" aria-describedby="robot-name-help" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <small id="robot-name-help">{t('robots.create.nameHelp', { prefix: `robot$${project}+` })}</small>
      <label for="robot-description">{t('robots.create.description')}</label>
      <input id="robot-description" maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for="robot-days">{t('robots.create.days')}</label>
      <input id="robot-days" type="number" min={1} max={36500} required={!never} disabled={never} value={days} onInput={(e) => setDays(e.currentTarget.value)} />
      <label class="check">
        <input type="checkbox" checked={never} onChange={(e) => setNever(e.currentTarget.checked)} />
        {t('robots.create.never')}
      </label>
      {GRANTS.map((g) => (
        <fieldset class="perm-grid" key={g.resource}>
          <legend>{resourceLabel(g.resource)}</legend>
          {g.actions.map((action) => {
            const a = { resource: g.resource, action };
            return (
              <label class="check" key={action}>
                <input type="checkbox" checked={granted.has(grantKey(a))} onChange={(e) => toggle(a, e.currentTarget.checked)} />
                {actionLabel(action)}
              </label>
            );
          })}
        </fieldset>
      ))}
    </FormDialog>
  );
}
