/**
 * Building LDAP search filters from untrusted input without letting it change the filter's
 * structure (RFC 4515 section 3), and the checks a user name passes before any LDAP traffic.
 */

/** Longest user name sent to the directory; longer ones are refused without a search. */
export const MAX_USERNAME_LENGTH = 256;

/**
 * Escapes a value for use inside an RFC 4515 filter assertion: `*`, `(`, `)`, `\` and NUL must
 * be written as `\2a`, `\28`, `\29`, `\5c`, `\00`. Other ASCII control characters are escaped as
 * well (always allowed, and keeps logs and filters printable). Non-ASCII characters stay as they
 * are: filters are UTF-8 and the client encodes them.
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f || ch === '*' || ch === '(' || ch === ')' || ch === '\\') {
      out += '\\' + code.toString(16).padStart(2, '0');
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Fills `{name}` placeholders of a filter template with escaped values. Every occurrence is
 * replaced; placeholders without a value are left as they are (the filter then simply fails to
 * match, or the server rejects it).
 */
export function fillFilter(template: string, values: Readonly<Record<string, string>>): string {
  let out = template;
  for (const [name, value] of Object.entries(values)) {
    // split/join rather than String.replace: a value holding `$&` must stay literal.
    out = out.split(`{${name}}`).join(escapeFilterValue(value));
  }
  return out;
}

// C0 controls, DEL and C1 controls: never part of a real account name.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * True when a user name may be looked up at all: not empty, at most
 * {@link MAX_USERNAME_LENGTH} characters, and free of NUL and other control characters.
 */
export function isAcceptableUsername(username: string): boolean {
  return username.length > 0 && username.length <= MAX_USERNAME_LENGTH && !CONTROL.test(username);
}
