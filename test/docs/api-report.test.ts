import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorResult } from '@microsoft/api-extractor';

/**
 * sdk/api/etc/sdk.api.md is the API report of @wharf/sdk, the contract every plugin builds
 * against. API Extractor (sdk/api/api-extractor.json) rebuilds it from sdk/api/dist in check mode
 * (`localBuild: false`): if the public surface changed and the report was not updated, this fails,
 * so the change shows up in review. See docs/adr/0012-api-report-with-api-extractor.md.
 */

/** The repository root: the nearest directory up from here holding sdk/api/api-extractor.json. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'sdk', 'api', 'api-extractor.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find sdk/api/api-extractor.json above the test file');
    dir = parent;
  }
  return dir;
}

const root = findRoot();
const sdkDir = path.join(root, 'sdk', 'api');
const REPORT = path.join(sdkDir, 'etc', 'sdk.api.md');
const FIX = 'Run `npm run api-report` and commit sdk/api/etc/sdk.api.md (review its diff: it is the plugin contract).';

interface Run {
  result: ExtractorResult;
  /** Warnings and errors, as API Extractor would have printed them. */
  messages: string[];
}

/**
 * Prepares the checked-in config, with the candidate report written to a temp folder (not the
 * shared cache) and, optionally, the expected report read from another folder.
 */
function prepare(tempFolder: string, reportFolder?: string): ExtractorConfig {
  const configFile = path.join(sdkDir, 'api-extractor.json');
  const configObject = ExtractorConfig.loadFile(configFile);
  configObject.apiReport = { ...configObject.apiReport, enabled: true, reportTempFolder: tempFolder, ...(reportFolder ? { reportFolder } : {}) };
  return ExtractorConfig.prepare({ configObject, configObjectFullPath: configFile, packageJsonFullPath: path.join(sdkDir, 'package.json') });
}

/** Runs API Extractor in check mode, quietly, keeping its warnings and errors. */
function check(config: ExtractorConfig, compilerState?: CompilerState): Run {
  const messages: string[] = [];
  const result = Extractor.invoke(config, {
    localBuild: false,
    printApiReportDiff: true,
    ...(compilerState ? { compilerState } : {}),
    messageCallback: (message) => {
      if (message.logLevel === ExtractorLogLevel.Warning || message.logLevel === ExtractorLogLevel.Error) {
        messages.push(message.formatMessageWithLocation(root));
      }
      message.handled = true;
    },
  });
  return { result, messages };
}

describe('API report of @wharf/sdk', () => {
  let temp: string;

  before(async () => {
    assert.ok(existsSync(path.join(sdkDir, 'dist', 'index.d.ts')), 'sdk/api is not built: run `npx tsc -b` first');
    temp = await mkdtemp(path.join(os.tmpdir(), 'wharf-api-report-'));
  });

  after(async () => {
    await rm(temp, { recursive: true, force: true });
  });

  it('sdk/api/etc/sdk.api.md matches the built SDK (run `npm run api-report` if this fails)', () => {
    const { result, messages } = check(prepare(path.join(temp, 'current')));
    assert.ok(
      result.succeeded,
      result.apiReportChanged
        ? // API Extractor's own advice ("copy the file ... or perform a local build") is replaced by FIX.
          `The public API of @wharf/sdk changed, but sdk/api/etc/sdk.api.md was not updated.\n${FIX}\n\n` +
            messages.filter((m) => !m.includes('console-api-report-not-copied')).join('\n')
        : `API Extractor failed (${result.errorCount} errors, ${result.warningCount} warnings):\n${messages.join('\n')}`,
    );
  });

  describe('check mode', () => {
    let expected: string;
    let compilerState: CompilerState;

    before(async () => {
      // A copy of the checked-in report that the tests may break; the SDK is analysed once.
      expected = path.join(temp, 'expected');
      await mkdir(expected);
      await copyFile(REPORT, path.join(expected, 'sdk.api.md'));
      compilerState = CompilerState.create(prepare(path.join(temp, 'candidate'), expected));
    });

    it('notices a report that no longer matches and shows the difference', async () => {
      const file = path.join(expected, 'sdk.api.md');
      const original = await readFile(file, 'utf8');
      assert.match(original, /^export function definePlugin/m);
      await writeFile(file, original.replace(/^export function definePlugin/m, 'export function definePluginRenamed'));
      try {
        const { result, messages } = check(prepare(path.join(temp, 'candidate'), expected), compilerState);
        assert.equal(result.succeeded, false);
        assert.equal(result.apiReportChanged, true);
        const text = messages.join('\n');
        assert.match(text, /You have changed the API signature/);
        assert.match(text, /^-export function definePluginRenamed/m);
        assert.match(text, /^\+export function definePlugin/m);
      } finally {
        await writeFile(file, original);
      }
    });

    it('notices a missing report', async () => {
      const file = path.join(expected, 'sdk.api.md');
      const original = await readFile(file, 'utf8');
      await rm(file);
      try {
        const { result, messages } = check(prepare(path.join(temp, 'candidate'), expected), compilerState);
        assert.equal(result.succeeded, false);
        assert.match(messages.join('\n'), /The API report file is missing/);
      } finally {
        await writeFile(file, original);
      }
    });
  });
});
