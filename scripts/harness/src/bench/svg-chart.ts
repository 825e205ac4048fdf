import type { Measurement } from './measurement.ts';

const ROW = 26;
const LABEL_WIDTH = 360;
const BAR_WIDTH = 320;

function escapeXml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string,
  );
}

/**
 * A horizontal bar chart of one suite. A figure with a baseline is drawn as its ratio, with a
 * line at 1.0 (the baseline); other figures are drawn against the largest figure of the same unit.
 */
export function suiteChart(suite: string, results: readonly Measurement[]): string {
  const maxByUnit = new Map<string, number>();
  for (const m of results) {
    if (m.ratio === undefined) maxByUnit.set(m.unit, Math.max(maxByUnit.get(m.unit) ?? 0, Math.abs(m.value)));
  }
  const maxRatio = Math.max(1, ...results.map((m) => m.ratio ?? 0));
  const height = 40 + results.length * ROW;
  const width = LABEL_WIDTH + BAR_WIDTH + 160;
  const rows = results.map((m, i) => {
    const y = 30 + i * ROW;
    const fraction =
      m.ratio !== undefined ? m.ratio / maxRatio : Math.abs(m.value) / (maxByUnit.get(m.unit) || 1);
    const w = Math.max(1, Math.round(fraction * BAR_WIDTH));
    const colour = m.pass ? '#2f9e44' : '#e03131';
    const figure = m.ratio !== undefined ? `×${m.ratio}` : `${m.value} ${m.unit}`;
    const baselineLine =
      m.ratio !== undefined
        ? `<line x1="${LABEL_WIDTH + Math.round(BAR_WIDTH / maxRatio)}" x2="${LABEL_WIDTH + Math.round(BAR_WIDTH / maxRatio)}" y1="${y - 2}" y2="${y + 18}" stroke="#333" stroke-dasharray="3,2"/>`
        : '';
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${y + 13}" text-anchor="end">${escapeXml(m.name)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${w}" height="16" fill="${colour}"/>`,
      baselineLine,
      `<text x="${LABEL_WIDTH + w + 6}" y="${y + 13}">${escapeXml(figure)}${m.target ? ` (${escapeXml(m.target)})` : ''}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="8" y="18" font-weight="bold" font-size="14">${escapeXml(suite)}</text>`,
    ...rows,
    '</svg>',
  ].join('\n');
}
