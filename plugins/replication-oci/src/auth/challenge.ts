/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1): one or more challenges, each a scheme and
 * `key=value` parameters whose values may be quoted and hold commas (`scope="repository:a:pull,push"`).
 */

export interface Challenge {
  /** Lowercased: `basic`, `bearer`, ... */
  readonly scheme: string;
  /** Parameter names lowercased, values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/** Every challenge of a header value (or of several header lines); unknown syntax is skipped. */
export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (typeof header !== 'string') return header.flatMap((h) => parseChallenges(h));
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header.charAt(i))) i++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const start = i;
    const name = token();
    if (name === undefined) {
      i++;
      continue;
    }
    skip(/\s/);
    if (header.charAt(i) === '=' && out.length > 0) {
      // A parameter of the current challenge.
      i++;
      skip(/\s/);
      let value = '';
      if (header.charAt(i) === '"') {
        i++;
        while (i < header.length && header.charAt(i) !== '"') {
          if (header.charAt(i) === '\\') i++;
          value += header.charAt(i);
          i++;
        }
        i++;
      } else {
        // Lenient: registries send unquoted URLs (`realm=https://...`), which are not tokens.
        while (i < header.length && !/[\s,]/.test(header.charAt(i))) value += header.charAt(i++);
      }
      const current = out[out.length - 1];
      if (current) current.params[name.toLowerCase()] = value;
      continue;
    }
    if (header.charAt(i) === '=' && out.length === 0) {
      i = start + name.length + 1;
      continue;
    }
    out.push({ scheme: name.toLowerCase(), params: {} });
  }
  return out;
}

/** The Bearer challenge if there is one, else the Basic one, else undefined. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' && c.params['realm']) ?? challenges.find((c) => c.scheme === 'basic');
}
