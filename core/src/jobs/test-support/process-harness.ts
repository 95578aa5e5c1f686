import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobsSettings } from '../../config/types.js';
import type { DatabaseConfig } from '../../metadata/types.js';
import { waitFor } from './index.js';

/** Child node processes for the process-level tests, with their event lines collected. */

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixture-node.js');

export interface FixtureEvent {
  readonly node: string;
  readonly event: string;
  readonly id?: string;
  readonly attempt?: number;
  readonly at?: number;
}

export class ChildNode {
  readonly events: FixtureEvent[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(setup: { settings: JobsSettings; database?: DatabaseConfig; node: string; schedule?: string }) {
    this.child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, WHARF_JOBS_FIXTURE: JSON.stringify(setup) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim().startsWith('{')) this.events.push(JSON.parse(line) as FixtureEvent);
      }
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  waitEvent(what: (e: FixtureEvent) => boolean, label: string, timeoutMs = 15_000): Promise<FixtureEvent> {
    return waitFor(`${label} (stderr: ${this.stderr.slice(-500)})`, () => this.events.find(what), timeoutMs);
  }

  kill9(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Graceful stop; SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
