import { useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { Dialog } from './dialog.js';
import { Notice } from './notice.js';

/**
 * A confirmation that names what will happen: `action` runs on confirm and answers an error
 * message (shown in the dialog, which stays open), or `undefined` when it worked (it closes).
 */
export function Confirm({
  open,
  title,
  body,
  confirmLabel,
  danger = true,
  onClose,
  action,
}: {
  open: boolean;
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
  onClose: () => void;
  action: () => Promise<string | undefined>;
}) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const close = () => {
    setError(undefined);
    onClose();
  };
  const confirm = async () => {
    setBusy(true);
    const failure = await action();
    setBusy(false);
    if (failure) setError(failure);
    else close();
  };
  return (
    <Dialog open={open} title={title} onClose={close}>
      <p>{body}</p>
      <Notice text={error} error />
      <div class="buttons">
        <button type="button" onClick={close}>
          {t('confirm.cancel')}
        </button>
        <button type="button" class={danger ? 'danger' : 'primary'} disabled={busy} onClick={confirm}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
