import { keyFigures } from '@souk/kit/key-figures';
import { type PrometheusClient, PrometheusError, type Range } from '../data/prometheus.ts';

/**
 * The live console's charts: the platform's key figures (the same PromQL as the Grafana
 * dashboards, from the kit) over the last minutes. Only these fixed queries run: the console never
 * sends PromQL, so the endpoint is no open door to Prometheus.
 */
export type ChartUnit = 'ops' | 's' | 'short' | 'percentunit';

interface ChartDef {
  id: string;
  title: string;
  unit: ChartUnit;
  queries: { expr: string; name: (labels: Record<string, string>) => string }[];
}

export function chartDefs(window: string): ChartDef[] {
  const by = (label: string) => (l: Record<string, string>) => l[label] ?? label;
  return [
    {
      id: 'orders',
      title: 'Orders per second, by outcome',
      unit: 'ops',
      queries: [{ expr: keyFigures.sagasPerSecond(window), name: by('outcome') }],
    },
    {
      id: 'saga-duration',
      title: 'Saga duration',
      unit: 's',
      queries: [
        { expr: keyFigures.sagaDuration(0.5, window), name: () => 'p50' },
        { expr: keyFigures.sagaDuration(0.99, window), name: () => 'p99' },
      ],
    },
    {
      id: 'latency',
      title: 'Request latency p99, by service',
      unit: 's',
      queries: [{ expr: keyFigures.requestLatency(0.99, window), name: by('service') }],
    },
    {
      id: 'outbox',
      title: 'Outbox backlog (rows not yet published)',
      unit: 'short',
      queries: [{ expr: keyFigures.outboxBacklog(), name: by('service') }],
    },
    {
      id: 'cache',
      title: 'Cache hit rate',
      unit: 'percentunit',
      queries: [{ expr: keyFigures.cacheHitRatio(window), name: by('service') }],
    },
  ];
}

export interface ChartSeries {
  name: string;
  /** [unix seconds, value or null] */
  points: [number, number | null][];
}

export interface Chart {
  id: string;
  title: string;
  unit: ChartUnit;
  series: ChartSeries[];
}

export interface ChartsAnswer {
  prometheus: 'ok' | 'not_configured';
  window: string;
  range: Range;
  charts: Chart[];
}

export class LiveCharts {
  constructor(
    private readonly prometheus: PrometheusClient | undefined,
    private readonly window: string,
  ) {}

  /** The last `minutes`, about 120 points per series. */
  async read(minutes: number, now = Date.now()): Promise<ChartsAnswer> {
    const end = Math.floor(now / 1000);
    const stepSeconds = Math.max(5, Math.round((minutes * 60) / 120));
    const range = { start: end - minutes * 60, end, stepSeconds };
    const prometheus = this.prometheus;
    if (!prometheus) return { prometheus: 'not_configured', window: this.window, range, charts: [] };
    const charts = await Promise.all(
      chartDefs(this.window).map(async (def) => {
        const answers = await Promise.all(def.queries.map((q) => prometheus.queryRange(q.expr, range)));
        const series = def.queries.flatMap((q, i) =>
          (answers[i] ?? []).map((s) => ({
            name: q.name(s.labels),
            points: s.samples.map((p): [number, number | null] => [p.t, p.v]),
          })),
        );
        series.sort((a, b) => a.name.localeCompare(b.name));
        return { id: def.id, title: def.title, unit: def.unit, series };
      }),
    );
    return { prometheus: 'ok', window: this.window, range, charts };
  }
}

export { PrometheusError };
