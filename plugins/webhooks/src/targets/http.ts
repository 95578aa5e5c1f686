import type { WebhookTargetKind } from '@wharf/sdk';
import { checkHttpAddress, postJson } from './http-send.js';
import type { NetworkGuard } from './network-guard.js';
import { renderBody } from '../formats.js';

/** `http`: Harbor's default or CloudEvents JSON, POSTed to the address, signed. */
export const httpTarget = (guard: NetworkGuard): WebhookTargetKind => Object.freeze({
  type: 'http',
  description: "JSON POST (Harbor's default payload or CloudEvents 1.0), signed with the policy's secret",
  validate: (target) => checkHttpAddress(target.address, guard),
  async deliver({ target, event, sign, signal }) {
    const { body, contentType } = renderBody(target.payloadFormat, event);
    const headers: Record<string, string> = { 'content-type': contentType, ...sign(body) };
    if (target.authHeader) headers['authorization'] = target.authHeader;
    return { statusCode: await postJson(target, body, headers, signal, guard) };
  },
} satisfies WebhookTargetKind);
