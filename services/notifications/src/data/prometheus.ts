/**
 * Reads a Prometheus server's HTTP API (range queries), for the live console's charts. Values
 * Prometheus cannot compute (NaN, ±Inf: a quantile without traffic) come back as null.
 */
export interface Sample {
  /** Unix seconds. */
  t: number;
  v: number | null;
}

export interface RangeSeries {
  labels: Record<string, string>;
  samples: Sample[];
}

export interface Range {
  /** Unix seconds. */
  start: number;
  end: number;
  stepSeconds: number;
}

export class PrometheusError extends Error {}

interface Answer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
}

export class PrometheusClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async queryRange(promql: string, range: Range): Promise<RangeSeries[]> {
    const query = new URLSearchParams({
      query: promql,
      start: String(range.start),
      end: String(range.end),
      step: String(range.stepSeconds),
    });
    let res: Response;
    try {
      res = await fetch(
        new URL(`api/v1/query_range?${query}`, this.url.endsWith('/') ? this.url : `${this.url}/`),
        {
          signal: AbortSignal.timeout(this.timeoutMs),
        },
      );
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new PrometheusError(`Prometheus at ${this.url} is not answering (${cause})`);
    }
    let body: Answer;
    try {
      body = (await res.json()) as Answer;
    } catch {
      throw new PrometheusError(`Prometheus at ${this.url} answered ${res.status} without JSON`);
    }
    if (body.status !== 'success' || !body.data)
      throw new PrometheusError(`Prometheus refused a query: ${body.error ?? res.status}`);
    if (body.data.resultType !== 'matrix') return [];
    return body.data.result.map((r) => ({
      labels: r.metric,
      samples: r.values.map(([t, v]) => {
        const n = Number(v);
        return { t, v: Number.isFinite(n) ? n : null };
      }),
    }));
  }
}
