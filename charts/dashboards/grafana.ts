import type { DashboardDef, PanelDef } from './panels.ts';

// Grafana's own variable syntax, resolved by Grafana, not a template literal.
// biome-ignore lint/suspicious/noTemplateCurlyInString: see above
const datasource = { type: 'prometheus', uid: '${datasource}' };

function panel(p: PanelDef, id: number): Record<string, unknown> {
  const stat = p.kind === 'stat';
  const width = stat ? 6 : 12;
  const height = stat ? 4 : 8;
  return {
    id,
    type: stat ? 'stat' : 'timeseries',
    title: p.title,
    datasource,
    gridPos: { h: height, w: width, x: ((id - 1) % 2) * 12, y: Math.floor((id - 1) / 2) * 8 },
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    options: stat
      ? { reduceOptions: { calcs: ['lastNotNull'] } }
      : { legend: { displayMode: 'list', placement: 'bottom' } },
    targets: [{ refId: 'A', datasource, expr: p.expr, legendFormat: p.legend ?? '__auto' }],
  };
}

/** A Grafana dashboard model (schema 39), with a Prometheus datasource variable. */
export function grafanaDashboard(d: DashboardDef): Record<string, unknown> {
  const variables: Record<string, unknown>[] = [
    { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source', current: {} },
  ];
  if (d.serviceVariableFrom) {
    variables.push({
      name: 'service',
      type: 'query',
      label: 'Service',
      datasource,
      query: { query: `label_values(${d.serviceVariableFrom}, service)`, refId: 'service' },
      includeAll: true,
      multi: true,
      allValue: '.*',
      current: { text: 'All', value: '$__all' },
      refresh: 2,
    });
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['souk'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    templating: { list: variables },
    panels: d.panels.map((p, i) => panel(p, i + 1)),
  };
}
