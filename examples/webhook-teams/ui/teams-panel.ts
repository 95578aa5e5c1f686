import type { UiApiError, UiExtensionHost } from '@wharf/sdk';

/**
 * A panel on a project's summary (the `project-summary` slot of ADR 0039): which of the
 * project's webhook policies post to Microsoft Teams. Plain DOM and the host's `api`; the page
 * loads this file with import() from /_ext/ui/extensions/webhook-teams/0/teams-panel.js.
 */

const TEXTS = {
  en: { none: 'No webhook posts to Teams yet.', some: 'Posting to Teams:', manage: 'Manage webhooks', failed: 'Could not read the webhooks: ' },
  'zh-CN': { none: '还没有 Webhook 发送到 Teams。', some: '发送到 Teams 的 Webhook：', manage: '管理 Webhook', failed: '无法读取 Webhook：' },
};

interface Policy {
  name: string;
  enabled: boolean;
  targets: { type: string }[];
}

export async function mount(host: UiExtensionHost<HTMLElement>): Promise<() => void> {
  const text = host.locale.startsWith('zh') ? TEXTS['zh-CN'] : TEXTS.en;
  const project = host.project ?? '';
  const out = document.createElement('div');
  host.element.append(out);
  try {
    const { data } = await host.api.request<Policy[]>('GET', `/projects/${encodeURIComponent(project)}/webhook/policies`, { query: { page_size: 100 } });
    const teams = data.filter((p) => p.targets.some((t) => t.type === 'teams'));
    const p = document.createElement('p');
    p.textContent = teams.length === 0 ? text.none : `${text.some} ${teams.map((t) => t.name).join(', ')}`;
    const link = document.createElement('a');
    link.href = `/projects/${encodeURIComponent(project)}?tab=webhooks.policies`;
    link.textContent = text.manage;
    // Client-side navigation: the page moves without a reload.
    link.addEventListener('click', (e) => {
      e.preventDefault();
      host.navigate(link.getAttribute('href') ?? '/');
    });
    out.append(p, link);
  } catch (err) {
    out.textContent = text.failed + ((err as UiApiError).message ?? String(err));
  }
  return () => out.remove();
}
