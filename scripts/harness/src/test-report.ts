import { stripVTControlCharacters } from 'node:util';

/** What one test file's run amounted to, read from uvu's closing summary. */
export interface FileOutcome {
  passed: number;
  failed: number;
  /** Why the file counts as failed beyond its own assertions (crash, timeout, leftovers, skips). */
  problems: string[];
}

export function parseUvuSummary(output: string): { total: number; passed: number; skipped: number } | null {
  const text = stripVTControlCharacters(output);
  const total = /^\s*Total:\s+(\d+)\s*$/m.exec(text);
  const passed = /^\s*Passed:\s+(\d+)\s*$/m.exec(text);
  const skipped = /^\s*Skipped:\s+(\d+)\s*$/m.exec(text);
  if (!total || !passed) return null;
  return { total: Number(total[1]), passed: Number(passed[1]), skipped: Number(skipped?.[1] ?? 0) };
}

/**
 * Folds a file's exit code, output and the runner's own findings into counts. A crash without a
 * summary, a skipped test, a file that ran nothing, or a problem the runner saw (timeout,
 * processes left behind) each count as a failure, so none of them can pass CI quietly.
 */
export function outcomeOf(exitCode: number | null, output: string, runnerProblems: string[]): FileOutcome {
  const problems = [...runnerProblems];
  const summary = parseUvuSummary(output);
  if (!summary) {
    problems.push(`no uvu summary (exit ${exitCode})`);
    return { passed: 0, failed: 1, problems };
  }
  const assertionFailures = summary.total - summary.passed - summary.skipped;
  if (summary.skipped > 0) problems.push(`${summary.skipped} skipped: skipped tests are not allowed`);
  if (summary.total === 0) problems.push('ran no test');
  if (exitCode !== 0 && assertionFailures === 0) problems.push(`exited with code ${exitCode}`);
  return { passed: summary.passed, failed: assertionFailures + problems.length, problems };
}
