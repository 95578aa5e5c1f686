import type { Execution } from './model.js';

/**
 * Progress of `wharf replication run --wait`: tasks done of total, bytes copied, failures. On a
 * terminal every change rewrites one line; elsewhere (logs, CI) a changed state is one plain
 * line, at most one per `intervalMs`, so a long run does not flood its log.
 */

export interface ProgressOptions {
  /** stderr is a terminal: show every change, in place. */
  readonly terminal: boolean;
  readonly show: (line: string) => void;
  /** Least time between two lines when not on a terminal (default 5 s). */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

export function progressText(e: Execution): string {
  const t = e.tasks;
  const done = t.succeeded + t.failed + t.stopped + t.skipped;
  const total = e.planned ? String(t.total) : '?';
  return `execution ${e.id}: ${e.status}, ${done}/${total} tasks done, ${t.failed} failed, ${formatBytes(e.bytes)} copied`;
}

/** Returns the function to call with each polled state of the execution. */
export function createProgress(options: ProgressOptions): (execution: Execution) => void {
  const now = options.now ?? Date.now;
  const interval = options.terminal ? 0 : options.intervalMs ?? 5000;
  let last: string | undefined;
  let lastAt = -Infinity;
  return (execution) => {
    const text = progressText(execution);
    if (text === last || now() - lastAt < interval) return;
    options.show(text);
    last = text;
    lastAt = now();
  };
}
