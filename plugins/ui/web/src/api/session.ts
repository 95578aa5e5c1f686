import { getCsrfToken, setCsrfToken } from './client.js';

/**
 * The UI plugin's own session endpoints (`/_ext/ui/session`, not part of the management API):
 * log in with the user's password (sent once as Basic; the browser then holds only an HttpOnly
 * cookie), ask who is logged in, log out.
 */

export interface SessionUser {
  readonly name: string;
  readonly displayName?: string;
  readonly admin: boolean;
  readonly provider: string;
}

interface SessionAnswer {
  readonly user: SessionUser;
  readonly csrfToken: string;
  readonly expiresAt: number;
}

const URL_ = '/_ext/ui/session';

export type LoginResult = { ok: true; user: SessionUser } | { ok: false; status: number };

function utf8Base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

export async function login(username: string, password: string): Promise<LoginResult> {
  const res = await fetch(URL_, { method: 'POST', credentials: 'same-origin', headers: { Authorization: `Basic ${utf8Base64(`${username}:${password}`)}` } });
  if (!res.ok) return { ok: false, status: res.status };
  const body = (await res.json()) as SessionAnswer;
  setCsrfToken(body.csrfToken);
  return { ok: true, user: body.user };
}

/** The logged-in user, or `undefined` without a live session. */
export async function currentSession(): Promise<SessionUser | undefined> {
  const res = await fetch(URL_, { credentials: 'same-origin' });
  if (!res.ok) return undefined;
  const body = (await res.json()) as SessionAnswer;
  setCsrfToken(body.csrfToken);
  return body.user;
}

export async function logout(): Promise<void> {
  const csrf = getCsrfToken();
  await fetch(URL_, { method: 'DELETE', credentials: 'same-origin', headers: csrf ? { 'X-CSRF-Token': csrf } : {} });
  setCsrfToken(undefined);
}
