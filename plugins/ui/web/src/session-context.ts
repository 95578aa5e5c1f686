import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { SessionUser } from './api/session.js';

export interface SessionState {
  readonly user: SessionUser;
  readonly logout: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | undefined>(undefined);

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a session');
  return s;
}

/** Roles that may delete a project (the API checks again; the UI only does not offer what would fail). */
export function mayDeleteProject(user: SessionUser, role: string | null | undefined): boolean {
  return user.admin || role === 'projectAdmin';
}
