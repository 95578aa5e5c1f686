import type { UiApiError, UiExtensionHost } from '@wharf/sdk';
import { h, openDialog, uid } from './dom.js';
import { fill, textsFor } from './texts.js';

/**
 * The "Webhooks" tab of a project's page, contributed by this plugin through the UI extension
 * contract (ADR 0039): plain DOM, no framework, every call through the host's `api` (the session
 * cookie and CSRF header added by the page). Policies: list, create, edit, enable/disable, test,
 * delete (after a confirmation naming it); a policy's deliveries with their status.
 */

interface Target {
  type: string;
  address: string;
  has_auth_header: boolean;
  payload_format: string;
}
interface Policy {
  id: number;
  name: string;
  description: string;
  enabled: boolean;
  event_types: string[];
  targets: Target[];
}
interface Delivery {
  id: string;
  event_type: string;
  target_type: string;
  address: string;
  status: string;
  attempts: number;
  response_code: number | null;
  last_error: string | null;
  creation_time: string;
}
interface EventTypes {
  event_type: string[];
  notify_type: string[];
  payload_formats: string[];
}

export function mount(host: UiExtensionHost<HTMLElement>): () => void {
  const T = textsFor(host.locale);
  const base = `/projects/${encodeURIComponent(host.project ?? '')}/webhook`;
  const root = host.element;
  let live = true;
  let types: EventTypes | undefined;
  const dialogs = new Set<HTMLDialogElement>();
  const dialog = (title: string, body: (close: () => void) => Node[]) => {
    const d = openDialog(title, body);
    dialogs.add(d);
    d.addEventListener('close', () => dialogs.delete(d));
    return d;
  };
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const list = h('div', {}, h('p', { class: 'state', role: 'status' }, T.loading));
  const deliveries = h('section', { 'aria-live': 'polite' });

  const say = (text: string, error = false) => {
    status.textContent = text;
    status.className = error ? 'notice error' : 'notice';
    status.setAttribute('role', error ? 'alert' : 'status');
    status.hidden = false;
  };
  const failed = (err: unknown) => say(fill(T.error, { message: (err as UiApiError)?.message ?? String(err) }), true);

  async function load(): Promise<void> {
    try {
      types ??= (await host.api.request<EventTypes>('GET', `${base}/events`)).data;
      const { data } = await host.api.request<Policy[]>('GET', `${base}/policies`, { query: { page_size: 100 } });
      if (live) list.replaceChildren(data.length === 0 ? h('p', { class: 'state empty' }, T.empty) : table(data));
    } catch (err) {
      const e = err as UiApiError;
      list.replaceChildren(h('div', { class: 'state error', role: 'alert' }, h('p', {}, e.status === 403 ? T.forbidden : fill(T.error, { message: e.message ?? String(err) }))));
    }
  }

  function table(policies: Policy[]): HTMLTableElement {
    return h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...[T.name, T.events, T.targets, T.status].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, T.actions)))),
      h(
        'tbody',
        {},
        policies.map((p) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, p.name, p.description ? h('small', { class: 'referrers' }, p.description) : null),
            h('td', {}, p.event_types.join(', ')),
            h('td', {}, p.targets.map((t) => h('div', {}, h('code', {}, `${t.type}: ${t.address}`)))),
            h('td', {}, h('span', { class: `badge ${p.enabled ? 'public' : 'private'}` }, p.enabled ? T.on : T.off)),
            h(
              'td',
              { class: 'actions' },
              h('button', { type: 'button', 'aria-label': fill(T.deliveriesNamed, { name: p.name }), onclick: () => void showDeliveries(p) }, T.deliveries),
              ' ',
              h('button', { type: 'button', 'aria-label': fill(T.testNamed, { name: p.name }), onclick: () => void test(p) }, T.test),
              ' ',
              h('button', { type: 'button', 'aria-label': fill(T.toggleNamed, { action: p.enabled ? T.disable : T.enable, name: p.name }), onclick: () => void toggle(p) }, p.enabled ? T.disable : T.enable),
              ' ',
              h('button', { type: 'button', 'aria-label': fill(T.editNamed, { name: p.name }), onclick: () => edit(p) }, T.edit),
              ' ',
              h('button', { type: 'button', class: 'danger', 'aria-label': fill(T.deleteNamed, { name: p.name }), onclick: () => confirmDelete(p) }, T.delete),
            ),
          ),
        ),
      ),
    );
  }

  /** The body a PUT needs: the policy as it is, with changes (auth headers omitted: kept). */
  const bodyOf = (p: Policy, changes: Partial<Policy> = {}) => {
    const next = { ...p, ...changes };
    return { name: next.name, description: next.description, enabled: next.enabled, event_types: next.event_types, targets: next.targets.map((t) => ({ type: t.type, address: t.address, payload_format: t.payload_format })) };
  };

  async function toggle(p: Policy): Promise<void> {
    try {
      await host.api.request('PUT', `${base}/policies/${p.id}`, { body: bodyOf(p, { enabled: !p.enabled }) });
      await load();
    } catch (err) {
      failed(err);
    }
  }

  async function test(p: Policy): Promise<void> {
    try {
      await host.api.request('POST', `${base}/policies/${p.id}/test`);
      say(fill(T.tested, { name: p.name }));
      await showDeliveries(p);
    } catch (err) {
      failed(err);
    }
  }

  async function showDeliveries(p: Policy): Promise<void> {
    const titleId = uid('wh-deliveries');
    const body = h('div', {}, h('p', { class: 'state', role: 'status' }, T.loading));
    deliveries.replaceChildren(
      h('div', { class: 'title-row' }, h('h2', { id: titleId }, fill(T.deliveriesOf, { name: p.name })), h('button', { type: 'button', onclick: () => void showDeliveries(p) }, T.refresh)),
      body,
    );
    deliveries.setAttribute('aria-labelledby', titleId);
    try {
      const { data } = await host.api.request<Delivery[]>('GET', `${base}/policies/${p.id}/deliveries`, { query: { page_size: 50 } });
      body.replaceChildren(
        data.length === 0
          ? h('p', { class: 'state empty' }, T.noDeliveries)
          : h(
              'table',
              {},
              h('thead', {}, h('tr', {}, ...[T.col.event, T.col.receiver, T.status, T.col.attempts, T.col.code, T.col.time].map((c) => h('th', { scope: 'col' }, c)))),
              h(
                'tbody',
                {},
                data.map((d) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, d.event_type),
                    h('td', {}, h('code', {}, d.address)),
                    h('td', {}, h('span', { class: `badge delivery-${d.status}` }, T.deliveryStatus[d.status] ?? d.status), d.last_error ? h('small', { class: 'referrers' }, d.last_error) : null),
                    h('td', {}, String(d.attempts)),
                    h('td', {}, d.response_code === null ? '—' : String(d.response_code)),
                    h('td', {}, host.formatDate(d.creation_time)),
                  ),
                ),
              ),
            ),
      );
    } catch (err) {
      failed(err);
    }
  }

  function confirmDelete(p: Policy): void {
    dialog(fill(T.deleteTitle, { name: p.name }), (close) => [
      h('p', {}, fill(T.deleteBody, { name: p.name })),
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', onclick: close }, T.cancel),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              close();
              try {
                await host.api.request('DELETE', `${base}/policies/${p.id}`);
                deliveries.replaceChildren();
                await load();
              } catch (err) {
                failed(err);
              }
            },
          },
          T.delete,
        ),
      ),
    ]);
  }

  function edit(p?: Policy): void {
    const available = types ?? { event_type: [], notify_type: ['http'], payload_formats: ['Default'] };
    const target = p?.targets[0];
    const ids = { name: uid('wh-name'), desc: uid('wh-desc'), type: uid('wh-type'), address: uid('wh-address'), auth: uid('wh-auth'), format: uid('wh-format') };
    const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
    const name = h('input', { id: ids.name, required: true, maxlength: 255, value: p?.name ?? '' });
    const desc = h('input', { id: ids.desc, maxlength: 1024, value: p?.description ?? '' });
    const events = available.event_type.map((e) => h('input', { type: 'checkbox', value: e, checked: p ? p.event_types.includes(e) : false }));
    const type = h('select', { id: ids.type }, available.notify_type.map((k) => h('option', { value: k }, k)));
    type.value = target?.type ?? available.notify_type[0] ?? 'http';
    const address = h('input', { id: ids.address, type: 'url', required: true, value: target?.address ?? '' });
    const auth = h('input', { id: ids.auth, type: 'password', autocomplete: 'off', placeholder: p ? T.authHeaderKeep : undefined });
    const format = h('select', { id: ids.format }, available.payload_formats.map((f) => h('option', { value: f }, f)));
    format.value = target?.payload_format ?? 'Default';
    const enabled = h('input', { type: 'checkbox', checked: p ? p.enabled : true });

    const form = dialog(p ? fill(T.editTitle, { name: p.name }) : T.createTitle, (close) => [
      h(
        'form',
        {
          onsubmit: async (e: Event) => {
            e.preventDefault();
            const chosen = events.filter((c) => c.checked).map((c) => c.value);
            if (chosen.length === 0) {
              error.textContent = T.pickEvent;
              error.hidden = false;
              return;
            }
            const targetBody: Record<string, unknown> = { type: type.value, address: address.value, payload_format: format.value };
            if (auth.value) targetBody['auth_header'] = auth.value;
            const body = { name: name.value, description: desc.value, enabled: enabled.checked, event_types: chosen, targets: [targetBody] };
            try {
              if (p) await host.api.request('PUT', `${base}/policies/${p.id}`, { body });
              else {
                const created = await host.api.request<{ policy: Policy; secret: string }>('POST', `${base}/policies`, { body });
                close();
                showSecret(created.data.policy.name, created.data.secret);
              }
              close();
              await load();
            } catch (err) {
              error.textContent = fill(T.error, { message: (err as UiApiError)?.message ?? String(err) });
              error.hidden = false;
            }
          },
        },
        error,
        h('label', { for: ids.name }, T.name),
        name,
        h('label', { for: ids.desc }, T.description),
        desc,
        h('fieldset', {}, h('legend', {}, T.events), events.map((c) => h('label', { class: 'check' }, c, c.value))),
        h('label', { for: ids.type }, T.targetType),
        type,
        h('label', { for: ids.address }, T.address),
        address,
        h('label', { for: ids.auth }, T.authHeader),
        auth,
        h('label', { for: ids.format }, T.payloadFormat),
        format,
        h('label', { class: 'check' }, enabled, T.enabled),
        h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: close }, T.cancel), h('button', { type: 'submit', class: 'primary' }, p ? T.save : T.create)),
      ),
    ]);
    form.classList.add('wide');
  }

  function showSecret(policyName: string, secret: string): void {
    const done = h('span', { role: 'status', class: 'copied' });
    dialog(fill(T.secretTitle, { name: policyName }), (close) => [
      h('p', {}, T.secretBody),
      h(
        'p',
        { class: 'copy' },
        h('code', { 'data-secret': '' }, secret),
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              await navigator.clipboard.writeText(secret).then(() => (done.textContent = T.copied), () => undefined);
            },
          },
          T.secretCopy,
        ),
        done,
      ),
      h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'primary', onclick: close }, T.done)),
    ]);
  }

  root.replaceChildren(
    h('div', { class: 'title-row' }, h('h2', {}, T.title), h('button', { type: 'button', class: 'primary', onclick: () => edit() }, T.new)),
    h('p', { class: 'hint' }, T.intro),
    status,
    list,
    deliveries,
  );
  void load();
  return () => {
    live = false;
    // Dialogs live on <body>: close those this tab left open.
    for (const d of dialogs) d.close();
  };
}
