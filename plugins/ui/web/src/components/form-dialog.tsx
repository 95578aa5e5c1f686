import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { Dialog } from './dialog.js';
import { Notice } from './notice.js';

/**
 * A dialog holding a form, with Cancel and a submit button: `submit` answers an error message
 * (shown above the fields), or `undefined` when it worked. `extra` adds a button before Cancel.
 */
export function FormDialog({
  open,
  title,
  submitLabel,
  submit,
  onClose,
  children,
  extra,
}: {
  open: boolean;
  title: string;
  submitLabel: string;
  submit: () => Promise<string | undefined>;
  onClose: () => void;
  children: ComponentChildren;
  extra?: ComponentChildren;
}) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  // A dialog opened again starts without the last attempt's error.
  useEffect(() => {
    if (open) setError(undefined);
  }, [open]);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const failure = await submit();
    setBusy(false);
    setError(failure);
  };
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form onSubmit={onSubmit}>
        <Notice text={error} error />
        {children}
        <div class="buttons">
          {extra}
          <button type="button" onClick={onClose}>
            {t('confirm.cancel')}
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
