import ldap from 'ldapjs';
import { fillFilter } from './escape.js';

/**
 * A strict RFC 4515 filter parser that builds ldapjs filter objects with the *decoded* values.
 * ldapjs 3 (@ldapjs/filter 2.1) keeps `\2a`-style escapes literally in the values it sends, so a
 * correctly escaped filter string would search for the text `\2a` instead of `*`. Parsing here
 * keeps escaping and wire encoding both right.
 */

/** What ldapjs accepts as a search filter object. */
export type LdapFilter = Exclude<NonNullable<ldap.SearchOptions['filter']>, string>;

export class FilterSyntaxError extends Error {
  constructor(message: string, text: string) {
    super(`invalid LDAP filter ${JSON.stringify(text)}: ${message}`);
    this.name = 'FilterSyntaxError';
  }
}

// attributedescription: descr or numericoid, then options (RFC 4512 section 2.5).
const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)(?:;[A-Za-z0-9-]+)*$/;
const RULE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/;

/** Fills a template with RFC 4515-escaped values, then parses it: the filter ldapjs sends. */
export function buildFilter(template: string, values: Readonly<Record<string, string>>): LdapFilter {
  return parseFilter(fillFilter(template, values));
}

/** Parses an RFC 4515 filter string. Throws {@link FilterSyntaxError}. */
export function parseFilter(text: string): LdapFilter {
  const parser = new Parser(text);
  const filter = parser.filter();
  if (parser.pos !== text.length) throw new FilterSyntaxError(`unexpected text at ${parser.pos}`, text);
  return filter;
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new FilterSyntaxError(message, this.text);
  }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) this.fail(`expected "${ch}" at ${this.pos}`);
    this.pos++;
  }

  filter(): LdapFilter {
    this.expect('(');
    const op = this.text[this.pos];
    let result: LdapFilter;
    if (op === '&' || op === '|') {
      this.pos++;
      const filters: LdapFilter[] = [];
      while (this.text[this.pos] === '(') filters.push(this.filter());
      result = op === '&' ? new ldap.AndFilter({ filters }) : new ldap.OrFilter({ filters });
    } else if (op === '!') {
      this.pos++;
      result = new ldap.NotFilter({ filter: this.filter() });
    } else {
      // An item holds no unescaped parenthesis, so it ends at the next ")".
      const end = this.text.indexOf(')', this.pos);
      if (end < 0) this.fail('missing ")"');
      result = this.item(this.text.slice(this.pos, end));
      this.pos = end;
    }
    this.expect(')');
    return result;
  }

  item(item: string): LdapFilter {
    if (item.includes('(')) this.fail('unescaped "(" in a value');
    const eq = item.indexOf('=');
    if (eq <= 0) this.fail(`no attribute or operator in "${item}"`);
    const before = item[eq - 1];
    const raw = item.slice(eq + 1);
    if (before === ':') return this.extensible(item.slice(0, eq - 1), raw);
    if (before === '~' || before === '>' || before === '<') {
      const attribute = this.attribute(item.slice(0, eq - 1));
      const value = decodeValue(raw, this.text).toString('utf8');
      if (before === '~') return new ldap.ApproximateFilter({ attribute, value });
      if (before === '>') return new ldap.GreaterThanEqualsFilter({ attribute, value });
      return new ldap.LessThanEqualsFilter({ attribute, value });
    }
    const attribute = this.attribute(item.slice(0, eq));
    if (raw === '*') return new ldap.PresenceFilter({ attribute });
    if (!raw.includes('*')) return new ldap.EqualityFilter({ attribute, value: decodeValue(raw, this.text) });
    const parts = raw.split('*').map((p) => decodeValue(p, this.text).toString('utf8'));
    const initial = parts[0] ?? '';
    const final = parts[parts.length - 1] ?? '';
    const any = parts.slice(1, -1);
    if (any.some((p) => p === '')) this.fail('empty substring between "*"');
    // ldapjs skips an empty initial/final when encoding, which is what RFC 4511 wants.
    return new ldap.SubstringFilter({ attribute, initial, any, final });
  }

  extensible(left: string, raw: string): LdapFilter {
    // attr [":dn"] [":" rule]  or  [":dn"] ":" rule  (the leading ":" stays in `left`).
    const parts = left.split(':');
    const attribute = parts.shift() ?? '';
    let dnAttributes = false;
    let rule: string | undefined;
    for (const part of parts) {
      if (part.toLowerCase() === 'dn' && !dnAttributes && rule === undefined) dnAttributes = true;
      else if (RULE.test(part) && rule === undefined) rule = part;
      else this.fail(`bad extensible match "${left}"`);
    }
    if (attribute !== '') this.attribute(attribute);
    else if (rule === undefined) this.fail('an extensible match needs an attribute or a rule');
    const value = decodeValue(raw, this.text).toString('utf8');
    // @types/ldapjs omits `attribute`, which the runtime takes.
    const options = { value, dnAttributes, ...(rule ? { rule } : {}), ...(attribute ? { attribute } : {}) };
    return new ldap.ExtensibleFilter(options as ConstructorParameters<typeof ldap.ExtensibleFilter>[0]);
  }

  attribute(text: string): string {
    if (!ATTRIBUTE.test(text)) this.fail(`bad attribute "${text}"`);
    return text;
  }
}

/** Decodes an assertion value: `\HH` escapes become bytes; raw `*`, `(`, `)`, `\`, NUL are errors. */
function decodeValue(raw: string, text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = String.fromCodePoint(raw.codePointAt(i) ?? 0);
    if (ch === '\\') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new FilterSyntaxError(`bad escape "\\${hex}"`, text);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ch === '*' || ch === '(' || ch === ')' || ch === '\0') {
      throw new FilterSyntaxError(`unescaped "${ch === '\0' ? 'NUL' : ch}" in a value`, text);
    } else {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
      i += ch.length - 1; // a surrogate pair is one character
    }
  }
  return Buffer.from(bytes);
}
