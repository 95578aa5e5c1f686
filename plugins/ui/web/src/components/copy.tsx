import { useState } from 'preact/hooks';
import { t } from '../i18n/index.js';

/** A pull command with a one-click copy button that says what it copied. */
export function CopyCommand({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<'ok' | 'failed' | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('ok');
    } catch {
      setDone('failed');
    }
    setTimeout(() => setDone(undefined), 2500);
  };
  return (
    <span class="copy">
      <code>{text}</code>
      <button type="button" class="icon" aria-label={label} title={label} onClick={copy}>
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <path d="M5 1h8a1 1 0 0 1 1 1v9h-2V3H5z M2 5h8a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H2a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z" fill="currentColor" />
        </svg>
      </button>
      <span class="visually-hidden" role="status" aria-live="polite">
        {done === 'ok' ? t('copy.done', { text }) : done === 'failed' ? t('copy.failed') : ''}
      </span>
      {done === 'ok' && <span class="copied" aria-hidden="true">✓</span>}
    </span>
  );
}
