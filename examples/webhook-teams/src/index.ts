import { definePlugin, Type, webhookTargetsServiceRef, type WebhookTargetKind } from '@wharf/sdk';

/**
 * `extensions: { webhook-teams: {} }`: adds the `teams` target kind to the webhooks plugin.
 * A policy target `{ "type": "teams", "address": "<Teams incoming webhook URL>" }` then gets
 * each event as a MessageCard. The webhooks plugin does everything else: policies, the durable
 * fan-out, retries, history.
 */

/** A Teams MessageCard for one event. */
export function messageCard(event: Parameters<WebhookTargetKind['deliver']>[0]['event']): Record<string, unknown> {
  const resources = (event.payload.event_data['resources'] as { resource_url?: string }[] | undefined) ?? [];
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: `${event.payload.type} (${event.policyName})`,
    themeColor: '0076D7',
    title: `Wharf: ${event.payload.type}`,
    sections: [
      {
        facts: [
          { name: 'Policy', value: event.policyName },
          { name: 'Operator', value: event.payload.operator },
          ...resources.map((r) => ({ name: 'Resource', value: r.resource_url ?? '' })),
        ],
      },
    ],
  };
}

export const teamsTarget: WebhookTargetKind = {
  type: 'teams',
  description: 'a Microsoft Teams incoming-webhook MessageCard',
  validate: (target) => (/^https?:\/\//.test(target.address) ? undefined : 'address must be the http(s) URL of a Teams incoming webhook'),
  async deliver({ target, event, sign, signal }) {
    const body = JSON.stringify(messageCard(event));
    const res = await fetch(target.address, { method: 'POST', headers: { 'content-type': 'application/json', ...sign(body) }, body, signal });
    await res.arrayBuffer();
    return { statusCode: res.status };
  },
};

export const webhookTeamsPlugin = definePlugin({
  id: 'webhook-teams',
  kind: 'extension',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Microsoft Teams target kind for webhook policies',
  configSchema: Type.Object({}, { additionalProperties: false, default: {} }),
  // Loaded after the webhooks plugin, whose target registry it registers with.
  dependsOn: ['webhooks'],
  register(ctx) {
    // A panel on each project's summary, built from ui/ into dist-ui/ by tsc (ADR 0039).
    ctx.ui.contribute({
      directory: new URL('../dist-ui/', import.meta.url),
      module: 'teams-panel.js',
      slots: [{ slot: 'project-summary', id: 'teams', label: { en: 'Microsoft Teams', 'zh-CN': 'Microsoft Teams' }, roles: ['projectAdmin', 'maintainer'] }],
    });
    ctx.registerInit({
      deps: { targets: webhookTargetsServiceRef },
      init({ targets }) {
        targets.register(teamsTarget);
      },
    });
  },
});

export default webhookTeamsPlugin;
