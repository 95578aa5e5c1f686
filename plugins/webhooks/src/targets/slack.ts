import type { WebhookTargetKind } from '@wharf/sdk';
import { checkHttpAddress, postJson } from './http-send.js';
import type { NetworkGuard } from './network-guard.js';

/** `slack`: a message for a Slack incoming webhook, with Harbor's payload in a code block. */
export const slackTarget = (guard: NetworkGuard): WebhookTargetKind => Object.freeze({
  type: 'slack',
  description: 'a Slack incoming-webhook message ({"text", "blocks"}) carrying the event',
  validate: (target) => checkHttpAddress(target.address, guard),
  async deliver({ target, event, sign, signal }) {
    const body = JSON.stringify(slackMessage(event.payload.type, event.policyName, event.payload));
    // Slack ignores the signature; a relay in between may check it.
    return { statusCode: await postJson(target, body, { 'content-type': 'application/json', ...sign(body) }, signal, guard) };
  },
} satisfies WebhookTargetKind);

export function slackMessage(type: string, policyName: string, payload: unknown): { text: string; blocks: unknown[] } {
  const title = `Wharf webhook ${type} (policy ${policyName})`;
  const json = JSON.stringify(payload, null, 2).slice(0, 2800);
  return {
    text: title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: '```' + json + '```' } },
    ],
  };
}
