import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setUnauthorizedHandler } from './api/client.js';
import { currentSession, logout, type SessionUser } from './api/session.js';
import { ExtensionsContext, loadExtensions, type Extensions } from './extensions.js';
import { Loading, ErrorState } from './components/states.js';
import { onLocaleChange, t } from './i18n/index.js';
import { match } from './routes.js';
import { useLocation } from './router.js';
import { SessionContext } from './session-context.js';
import { applyTheme, getTheme } from './theme.js';
import { LoginView } from './views/login.js';
import { Shell } from './views/shell.js';
import './styles.css';

type Phase = { kind: 'checking' } | { kind: 'login'; expired: boolean } | { kind: 'in'; user: SessionUser };

function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });
  const [, setLocaleRound] = useState(0);
  const [extensions, setExtensions] = useState<Extensions>({ loaded: false, all: [] });
  const loc = useLocation();
  useEffect(() => onLocaleChange(() => setLocaleRound((n) => n + 1)), []);
  useEffect(() => {
    void currentSession().then((user) => setPhase(user ? { kind: 'in', user } : { kind: 'login', expired: false }));
    // Any 401 from the API: the session expired, was revoked, or the account was disabled.
    setUnauthorizedHandler(() => setPhase((p) => (p.kind === 'in' ? { kind: 'login', expired: true } : p)));
  }, []);
  useEffect(() => {
    document.title = t('app.name');
  });
  // What plugins contribute, read once per login (a failure leaves the built-in screens).
  const userName = phase.kind === 'in' ? phase.user.name : undefined;
  useEffect(() => {
    if (!userName) return;
    void loadExtensions().then(
      (all) => setExtensions({ loaded: true, all }),
      () => setExtensions({ loaded: true, all: [] }),
    );
  }, [userName]);
  // Each screen change asks whether the session still lives: public data would still load
  // anonymously after it ended, and the user must know they are no longer logged in.
  useEffect(() => {
    if (phase.kind !== 'in') return;
    void currentSession().then((user) => {
      if (!user) setPhase({ kind: 'login', expired: true });
    });
  }, [loc.path]);

  if (phase.kind === 'checking') return <Loading />;
  if (phase.kind === 'login') return <LoginView expired={phase.expired} onLogin={(user) => setPhase({ kind: 'in', user })} />;
  const session = {
    user: phase.user,
    logout: async () => {
      await logout();
      setPhase({ kind: 'login', expired: false });
    },
  };
  const view = match(loc.path);
  return (
    <SessionContext.Provider value={session}>
      <ExtensionsContext.Provider value={extensions}>
        <Shell>{view ?? <ErrorState message="" status={404} />}</Shell>
      </ExtensionsContext.Provider>
    </SessionContext.Provider>
  );
}

applyTheme(getTheme());
render(<App />, document.getElementById('app') as HTMLElement);
