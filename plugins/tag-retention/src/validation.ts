import { ApiError, type Static } from '@wharf/sdk';
import { CronExpressionParser } from 'cron-parser';
import type { PolicyBody } from './api-schemas.js';
import type { RetentionRule } from './model.js';
import { compileRules } from './selectors.js';

/** A policy as the API took it, checked beyond its schema: parameters, selectors, rule count, cron. */
export function validatePolicy(body: Static<typeof PolicyBody>, maxRules: number): { rules: RetentionRule[]; cron: string | undefined } {
  if (body.rules.length > maxRules) throw new ApiError('BAD_REQUEST', `rules: at most ${maxRules} rules a policy (extensions.tag-retention.maxRules)`);
  const rules = body.rules.map((r, i): RetentionRule => {
    const at = `rules[${i}]`;
    if (r.template === 'always') {
      if (r.value !== undefined) throw new ApiError('BAD_REQUEST', `${at}.value: "always" takes no value`);
    } else if (r.value === undefined || r.value < 1) {
      throw new ApiError('BAD_REQUEST', `${at}.value: ${r.template} needs a value of at least 1`);
    }
    return {
      template: r.template, ...(r.value !== undefined ? { value: r.value } : {}),
      repositories: r.repositories.map((s) => ({ ...s })), tags: r.tags.map((s) => ({ ...s })),
      untagged: r.untagged ?? false, disabled: r.disabled ?? false,
    };
  });
  compileRules(rules);
  const cron = body.cron ?? undefined;
  if (cron !== undefined) {
    const fields = cron.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6) throw new ApiError('BAD_REQUEST', `cron: "${cron}" must have 5 fields (or 6 with seconds first)`);
    try {
      CronExpressionParser.parse(cron, { tz: 'UTC' });
    } catch (err) {
      throw new ApiError('BAD_REQUEST', `cron: "${cron}" is not a cron expression (${(err as Error).message})`);
    }
  }
  return { rules, cron };
}
