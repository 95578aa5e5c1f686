// TEMPORARY scaffold until the SDK's selectors land (cherry-picked from the immutability branch).
import type { CompiledRule, Matcher } from './evaluate.js';
import type { RetentionRule, SelectorSpec } from './model.js';

function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') { out += '.*'; i++; }
    else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '{') out += '(?:';
    else if (c === '}') out += ')';
    else if (c === ',') out += '|';
    else out += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function compileSelector(spec: SelectorSpec): Matcher {
  const re = spec.kind === 'regex' ? new RegExp(`^(?:${spec.pattern})$`) : globToRegex(spec.pattern);
  return spec.decoration === 'excludes' ? (v) => !re.test(v) : (v) => re.test(v);
}

export function compileRules(rules: readonly RetentionRule[]): CompiledRule[] {
  return rules.map((rule, i) => ({ number: i + 1, rule, repositories: compileSelector(rule.repositories), tags: compileSelector(rule.tags) }));
}
