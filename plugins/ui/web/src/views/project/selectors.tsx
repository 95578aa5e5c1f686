import { t } from '../../i18n/index.js';

/** A repository or tag selector as the rule APIs take it (a doublestar glob or a regex). */
export interface Selector {
  kind: 'doublestar' | 'regex';
  decoration: string;
  pattern: string;
}

/** A selector as one line of text: `app/**`, `not v1.*`, `regex ^v[0-9]+$`. */
export function selectorText(s: Selector, excludes: string): string {
  return `${s.decoration === excludes ? `${t('rules.except')} ` : ''}${s.kind === 'regex' ? 'regex ' : ''}${s.pattern}`;
}

/**
 * The fields of one selector: pattern, matching or excluding, glob or regex. `prefix` makes
 * the ids unique in a form.
 */
export function SelectorFields({ prefix, label, value, onChange, matches, excludes }: { prefix: string; label: string; value: Selector; onChange: (s: Selector) => void; matches: string; excludes: string }) {
  return (
    <fieldset class="selector">
      <legend>{label}</legend>
      <label for={`${prefix}-decoration`}>{t('rules.decoration')}</label>
      <select id={`${prefix}-decoration`} value={value.decoration} onChange={(e) => onChange({ ...value, decoration: e.currentTarget.value })}>
        <option value={matches}>{t('rules.matching')}</option>
        <option value={excludes}>{t('rules.excluding')}</option>
      </select>
      <label for={`${prefix}-pattern`}>{t('rules.pattern')}</label>
      <input id={`${prefix}-pattern`} required maxLength={256} value={value.pattern} aria-describedby={`${prefix}-help`} onInput={(e) => onChange({ ...value, pattern: e.currentTarget.value })} />
      <label class="check">
        <input type="checkbox" checked={value.kind === 'regex'} onChange={(e) => onChange({ ...value, kind: e.currentTarget.checked ? 'regex' : 'doublestar' })} />
        {t('rules.regex')}
      </label>
      <small id={`${prefix}-help`}>{t('rules.patternHelp')}</small>
    </fieldset>
  );
}
