/**
 * Every PromQL expression the charts ship, as the observability test runs it: the dashboards' panels
 * with Grafana's variables filled in, and the alert rules of both charts as helm renders them.
 */
import { dashboards } from '../../dashboards/panels.ts';
import { render } from './helm.ts';

export const MONITORING_APIS = [
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
];

/**
 * Grafana's variables as a dashboard opened on "All" shows them. The range variables get one minute:
 * with a 1 s scrape interval that spans the whole test, so a rate has every sample the run produced.
 */
export const VARIABLES: Record<string, string> = {
  service: '.*',
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1m',
};

export function substitute(expr: string, variables: Record<string, string> = VARIABLES): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => variables[name] ?? whole);
}

export interface PanelQuery {
  /** "<dashboard uid> / <panel title>" */
  id: string;
  expr: string;
}

/** Every panel's query; `variables` overrides some of VARIABLES (e.g. one service instead of All). */
export function panelQueries(variables: Record<string, string> = {}): PanelQuery[] {
  const values = { ...VARIABLES, ...variables };
  return dashboards.flatMap((d) =>
    d.panels.map((p) => ({ id: `${d.uid} / ${p.title}`, expr: substitute(p.expr, values) })),
  );
}

export interface ServiceVariable {
  dashboard: string;
  metric: string;
}

export function serviceVariables(): ServiceVariable[] {
  return dashboards.flatMap((d) =>
    d.serviceVariableFrom ? [{ dashboard: d.uid, metric: d.serviceVariableFrom }] : [],
  );
}

export interface AlertRule {
  chart: string;
  alert: string;
  expr: string;
}

export interface RuleGroups {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

/** The PrometheusRule spec each chart renders (default values, monitoring APIs served). */
export async function renderedRules(): Promise<Map<string, RuleGroups>> {
  const out = new Map<string, RuleGroups>();
  for (const chart of ['souk', 'souk-operator']) {
    const objs = await render(chart, { apiVersions: MONITORING_APIS });
    const rules = objs.filter((o) => o.kind === 'PrometheusRule');
    if (rules.length !== 1) throw new Error(`${chart} renders ${rules.length} PrometheusRules`);
    out.set(chart, rules[0]!['spec'] as RuleGroups);
  }
  return out;
}

export function alertRules(rendered: Map<string, RuleGroups>): AlertRule[] {
  return [...rendered].flatMap(([chart, spec]) =>
    spec.groups.flatMap((g) =>
      g.rules.flatMap((r) => (r.alert ? [{ chart, alert: r.alert, expr: r.expr.trim() }] : [])),
    ),
  );
}

/**
 * What an alert watches, without its threshold: `X > 0.2` becomes `X`, so a healthy run still shows
 * whether X has data. `absent(X)` becomes `X`: the series it expects must be there.
 */
export function underlying(expr: string): string {
  const e = expr.trim();
  const absent = /^absent\((.*)\)$/s.exec(e);
  if (absent) return absent[1]!.trim();
  const threshold = /^(.*?)\s*(?:>=|<=|==|!=|>|<)\s*-?[0-9.]+(?:e[+-]?[0-9]+)?$/s.exec(e);
  return threshold ? threshold[1]!.trim() : e;
}
