import { isCliRefusal, isKernelError, type KernelError } from '@wharf/sdk';
import { configProblems } from '../config/load-config.js';
import { formatProblem } from '../config/validate.js';

/**
 * How the CLI reports a failure: one clear line per problem for kernel errors (operators
 * need the key and the plugin, not a stack), the stack for anything unexpected.
 */
export function describeFailure(err: unknown): string[] {
  // A refusal (a bad argument, an unknown user): one line, without a stack.
  if (isCliRefusal(err)) return [err.code ? `error ${err.code}: ${err.message}` : `error: ${err.message}`];
  if (isKernelError(err)) {
    const code = (err as KernelError).code;
    const problems = configProblems(err);
    if (problems.length > 0) return problems.map((p) => `error ${code}: ${formatProblem(p)}`);
    return [`error ${code}: ${err.message}`];
  }
  if (err instanceof Error) return [`error: ${err.stack ?? err.message}`];
  return [`error: ${String(err)}`];
}

export function printFailure(err: unknown, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  for (const line of describeFailure(err)) write(line);
}
