/** Writes charts/souk/files/dashboards/*.json from panels.ts: `npm run -w charts generate:dashboards`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { grafanaDashboard } from './grafana.ts';
import { dashboards } from './panels.ts';

export const dashboardDir = path.resolve(import.meta.dirname, '../souk/files/dashboards');

export function renderDashboards(): Map<string, string> {
  return new Map(
    dashboards.map((d) => [`${d.uid}.json`, `${JSON.stringify(grafanaDashboard(d), null, 2)}\n`]),
  );
}

if (process.argv[1] === import.meta.filename) {
  mkdirSync(dashboardDir, { recursive: true });
  for (const [file, json] of renderDashboards()) writeFileSync(path.join(dashboardDir, file), json);
  console.log(`wrote ${dashboards.length} dashboards to ${path.relative(process.cwd(), dashboardDir)}`);
}
