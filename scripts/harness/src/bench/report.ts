import type { Measurement } from './measurement.ts';

function cell(x: number | string | undefined): string {
  return x === undefined ? '' : String(x);
}

/** The Markdown report of a whole `npm run bench`, one table and one chart per suite. */
export function markdownReport(suites: ReadonlyMap<string, readonly Measurement[] | Error>): string {
  const lines = ['# Souk benchmarks', '', `Run: ${new Date().toISOString()}`, ''];
  for (const [suite, results] of suites) {
    lines.push(`## ${suite}`, '');
    if (results instanceof Error) {
      lines.push(`Suite failed: ${results.message}`, '');
      continue;
    }
    lines.push(`![${suite}](${suite}.svg)`, '');
    lines.push(
      '| figure | value | unit | baseline | ratio | target | pass |',
      '|---|---|---|---|---|---|---|',
    );
    for (const m of results) {
      const baseline =
        m.baseline !== undefined ? `${m.baseline}${m.baselineName ? ` (${m.baselineName})` : ''}` : '';
      lines.push(
        `| ${m.name} | ${m.value} | ${m.unit} | ${baseline} | ${cell(m.ratio)} | ${cell(m.target)} | ${m.target ? (m.pass ? 'yes' : 'no') : ''} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
