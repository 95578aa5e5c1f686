/**
 * The boot tree: what the kernel loaded and how long each step took, printed at info level
 * (one structured line per plugin, plus this drawing in pretty mode).
 */

export interface BootRecord {
  readonly plugin: string;
  readonly kind: string;
  readonly version: string;
  /** Milliseconds spent in `register`. */
  readonly ms: number;
  /** Where it came from (package name or path), if it was loaded from a module. */
  readonly source?: string | undefined;
  readonly provides?: readonly string[];
}

export interface BootPhase {
  readonly phase: string;
  readonly ms: number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function formatBootTree(kernelVersion: string, plugins: readonly BootRecord[], phases: readonly BootPhase[], totalMs: number): string {
  const lines = [`wharf ${kernelVersion} ready in ${round(totalMs)} ms`];
  const rows: string[] = [
    ...plugins.map((p) => {
      const provides = p.provides && p.provides.length > 0 ? ` provides ${p.provides.join(', ')}` : '';
      return `${p.kind} ${p.plugin}@${p.version} (${round(p.ms)} ms)${provides}`;
    }),
    ...phases.map((p) => `${p.phase} (${round(p.ms)} ms)`),
  ];
  rows.forEach((row, i) => lines.push(`${i === rows.length - 1 ? '└─' : '├─'} ${row}`));
  return lines.join('\n');
}
