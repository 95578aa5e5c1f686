import { useState } from 'preact/hooks';
import { api, errorMessage } from '../api/client.js';
import { t } from '../i18n/index.js';
import './project/project.css';
import { useSession } from '../session-context.js';

/** Users of the database provider have a password here; everyone else's lives in their directory. */
const LOCAL_PROVIDER = 'db';

/**
 * The logged-in user's own page (from the user menu): who they are, and their password. A
 * database user changes it here (the old password is asked again, the password policy applies
 * on the server); an LDAP user is told the directory manages it.
 */
export function AccountView() {
  const { user } = useSession();
  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">{t('account.title')}</h1>
      <dl class="facts">
        <dt>{t('account.username')}</dt>
        <dd>{user.name}</dd>
        <dt>{t('account.provider')}</dt>
        <dd>{user.provider === LOCAL_PROVIDER ? t('account.provider.db') : user.provider}</dd>
        <dt>{t('account.admin')}</dt>
        <dd>{user.admin ? t('account.yes') : t('account.no')}</dd>
      </dl>
      <h2>{t('account.password.title')}</h2>
      {user.provider === LOCAL_PROVIDER ? <PasswordForm username={user.name} /> : <p class="notice">{t('account.password.external', { provider: user.provider })}</p>}
    </section>
  );
}

function PasswordForm({ username }: { username: string }) {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [repeat, setRepeat] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: () => string } | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (newPassword !== repeat) return setResult({ ok: false, text: () => t('account.password.mismatch') });
    setBusy(true);
    const { error, response } = await api.PUT('/users/{username}/password', { params: { path: { username } }, body: { oldPassword, newPassword } });
    setBusy(false);
    if (error) return setResult({ ok: false, text: () => (response.status === 403 ? t('account.password.wrongOld') : errorMessage(error)) });
    setOld('');
    setNew('');
    setRepeat('');
    setResult({ ok: true, text: () => t('account.password.changed') });
  };
  return (
    <form class="stack" onSubmit={submit}>
      {result && (
        <p class={result.ok ? 'notice' : 'notice error'} role={result.ok ? 'status' : 'alert'}>
          {result.text()}
        </p>
      )}
      {/* For password managers: the account the new password belongs to. */}
      <input type="text" name="username" autocomplete="username" value={username} hidden readOnly />
      <label for="old-password">{t('account.password.old')}</label>
      <input id="old-password" type="password" autocomplete="current-password" required value={oldPassword} onInput={(e) => setOld(e.currentTarget.value)} />
      <label for="new-password">{t('account.password.new')}</label>
      <input id="new-password" type="password" autocomplete="new-password" required aria-describedby="new-password-help" value={newPassword} onInput={(e) => setNew(e.currentTarget.value)} />
      <small id="new-password-help">{t('account.password.help')}</small>
      <label for="repeat-password">{t('account.password.repeat')}</label>
      <input id="repeat-password" type="password" autocomplete="new-password" required value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />
      <div>
        <button type="submit" class="primary" disabled={busy}>
          {t('account.password.submit')}
        </button>
      </div>
    </form>
  );
}
