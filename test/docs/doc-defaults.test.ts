import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { KernelConfigSchema } from '@wharf/core';
import { defaultPlugins } from '@wharf/server';

/**
 * What the docs quote about configuration against the schemas (issue 16 §12): every key in a
 * plugin README's `| key | ... default ... |` table exists in the plugin's schema, a quoted
 * default equals the schema's, a `required` key is required; and a kernel key quoted as
 * `` `a.b: value` `` in a sentence about defaults anywhere in docs/ has that default.
 */

// Runs from test/dist/docs.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema of `a.b.c` below `schema`, and whether its parent requires it. */
function schemaAt(schema: unknown, dotted: string): { node: Json; required: boolean } | undefined {
  let node: unknown = schema;
  let required = false;
  for (const key of dotted.split('.')) {
    if (!isObject(node) || !isObject(node.properties) || !isObject(node.properties[key])) return undefined;
    required = Array.isArray(node.required) && node.required.includes(key);
    node = node.properties[key];
  }
  return { node: node as Json, required };
}

interface Row {
  readonly keys: string[];
  readonly defaultCell: string;
  readonly line: number;
}

/** Rows of the first table whose header has `key` and `default` columns. */
function defaultsTable(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((l) => /^\|\s*key\s*\|/.test(l) && /\|\s*default\s*\|/.test(l));
  if (header < 0) return [];
  const cells = (l: string) => l.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((c) => c.trim().replace(/\u0000/g, '|'));
  const column = cells(lines[header] ?? '').indexOf('default');
  const rows: Row[] = [];
  for (let i = header + 2; i < lines.length && lines[i]?.startsWith('|'); i++) {
    const row = cells(lines[i] ?? '');
    rows.push({ keys: [...(row[0] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string), defaultCell: row[column] ?? '', line: i + 1 });
  }
  return rows;
}

/** A default cell that quotes one value: `` `8` ``, `` `sub` ``, `` `[]` ``, a bare number. */
function quotedValue(cell: string): { value: unknown } | undefined {
  const code = /^`([^`]*)`$/.exec(cell);
  if (code) return { value: code[1] === "''" ? '' : parseYaml(code[1] as string) };
  if (/^-?\d+$/.test(cell)) return { value: Number(cell) };
  return undefined;
}

/** A plugin's folder is `plugins/<kind>-<id>` or, for extensions, `plugins/<id>`. */
const pluginDir = (plugin: { kind: string; id: string }): string =>
  [`${plugin.kind}-${plugin.id}`, plugin.id].map((d) => path.join(root, 'plugins', d)).find((d) => existsSync(path.join(d, 'README.md'))) ??
  path.join(root, 'plugins', `${plugin.kind}-${plugin.id}`);
const pluginReadmes = defaultPlugins.map((plugin) => ({ plugin, file: path.join(pluginDir(plugin), 'README.md') }));
const hasSettings = (plugin: { configSchema: unknown }): boolean =>
  isObject(plugin.configSchema) && isObject(plugin.configSchema.properties) && Object.keys(plugin.configSchema.properties).length > 0;

describe('docs quote the schemas', () => {
  it('every default plugin with settings has a README with a defaults table', () => {
    for (const { plugin, file } of pluginReadmes) {
      const readme = readFileSync(file, 'utf8');
      assert.ok(hasSettings(plugin) ? defaultsTable(readme).length > 0 : readme.length > 0, file);
    }
  });

  for (const { plugin, file } of pluginReadmes) {
    it(`${path.relative(root, file)}: keys exist, quoted defaults and required keys match ${plugin.kind} plugin "${plugin.id}"`, () => {
      const problems: string[] = [];
      for (const row of defaultsTable(readFileSync(file, 'utf8'))) {
        for (const key of row.keys) {
          const at = schemaAt(plugin.configSchema, key);
          // `bindPasswordFile`: the file form every secret key has (ADR 0027).
          const secretFile = key.endsWith('File') ? schemaAt(plugin.configSchema, key.slice(0, -4)) : undefined;
          if (!at && secretFile?.node.secret === true) continue;
          if (!at) {
            problems.push(`line ${row.line}: \`${key}\` is no key of the schema`);
            continue;
          }
          if (/^\(?required\)?$/.test(row.defaultCell) && !at.required) problems.push(`line ${row.line}: \`${key}\` is documented as required but is optional`);
          const quoted = row.keys.length === 1 ? quotedValue(row.defaultCell) : undefined;
          // `` `endpoint` `` as a default names another key (the same value as that key).
          const namesKey = typeof quoted?.value === 'string' && schemaAt(plugin.configSchema, quoted.value) !== undefined;
          if (quoted && !namesKey && JSON.stringify(at.node.default) !== JSON.stringify(quoted.value)) {
            problems.push(`line ${row.line}: \`${key}\` documented default ${JSON.stringify(quoted.value)}, schema default ${JSON.stringify(at.node.default)}`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  it('a kernel key quoted with a value in a sentence about defaults has that default', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : []));
    const problems: string[] = [];
    let checked = 0;
    for (const file of [...files(path.join(root, 'docs')), path.join(root, 'README.md')]) {
      // A table row is a sentence of its own: joining rows would pair one row's key with another's "default".
      const text = readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => (l.startsWith('|') ? `\n${l}\n` : l))
        .join('\n')
        .replace(/\n(?!\n)/g, ' ');
      for (const sentence of text.split(/(?<=[.;:])\s+(?=[A-Z(`])|\n/)) {
        if (!/\bdefaults?\b/i.test(sentence)) continue;
        for (const m of sentence.matchAll(/`([a-z][A-Za-z]*(?:\.[a-z][A-Za-z]*)+): ([^`{}[\]]+)`/g)) {
          const at = schemaAt(KernelConfigSchema, m[1] as string);
          if (!at || at.node.default === undefined) continue;
          checked++;
          const value: unknown = parseYaml(m[2] as string);
          // A sentence may quote the non-default value to say how to change it ("`token.enabled: false` turns it off").
          const aboutChange = /\b(set|turn|switch|only|instead|unless|with `)/i.test(sentence.slice(0, sentence.indexOf(m[0])).slice(-30));
          if (!aboutChange && JSON.stringify(value) !== JSON.stringify(at.node.default)) {
            problems.push(`${path.relative(root, file)}: "${m[0]}" in a sentence about defaults, but the default is ${JSON.stringify(at.node.default)}: ${sentence.trim().slice(0, 160)}`);
          }
        }
      }
    }
    assert.ok(checked > 0, 'no kernel default is quoted anywhere: the pattern no longer finds them');
    assert.deepEqual(problems, []);
  });

  it('no page says the token service is off by default (its default is on)', () => {
    assert.equal(schemaAt(KernelConfigSchema, 'token.enabled')?.node.default, true);
    const pages = readdirSync(path.join(root, 'docs/architecture')).map((f) => path.join(root, 'docs/architecture', f));
    for (const file of [...pages, path.join(root, 'README.md')]) {
      assert.doesNotMatch(readFileSync(file, 'utf8').replace(/\s+/g, ' '), /token (service|auth) (is )?off(,| by) (the )?default/i, file);
    }
  });
});
