import { useState } from 'preact/hooks';
import { login, type SessionUser } from '../api/session.js';
import { t } from '../i18n/index.js';

export function LoginView({ expired, onLogin }: { expired: boolean; onLogin: (user: SessionUser) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = await login(username, password);
      if (result.ok) onLogin(result.user);
      else setError(result.status === 429 ? t('login.throttled') : t('login.failed'));
    } catch (err) {
      setError(t('state.error', { message: String(err) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <h1>{t('login.title')}</h1>
        {expired && !error && (
          <p class="notice" role="status">
            {t('login.expired')}
          </p>
        )}
        {error && (
          <p id="login-error" class="notice error" role="alert">
            {error}
          </p>
        )}
        <label for="username">{t('login.username')}</label>
        <input id="username" name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="password">{t('login.password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
        <p class="hint">{t('login.hint')}</p>
      </form>
    </main>
  );
}
