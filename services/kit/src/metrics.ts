import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Metric,
  Registry,
} from 'prom-client';

type Config<C> = Omit<C, 'registers' | 'name' | 'help' | 'labelNames'>;

/**
 * The one registry of a service. Getters are idempotent by name, so parts of the kit that
 * share a metric (every circuit breaker, every cache) ask for it and get the same instance.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { service: string; defaultMetrics?: boolean }) {
    this.registry.setDefaultLabels({ service: options.service });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    config: Config<CounterConfiguration<L>> = {},
  ): Counter<L> {
    return this.#getOrCreate(
      name,
      Counter,
      () => new Counter({ ...config, name, help, labelNames, registers: [this.registry] }),
    );
  }

  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    config: Config<GaugeConfiguration<L>> = {},
  ): Gauge<L> {
    return this.#getOrCreate(
      name,
      Gauge,
      () => new Gauge({ ...config, name, help, labelNames, registers: [this.registry] }),
    );
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    config: Config<HistogramConfiguration<L>> = {},
  ): Histogram<L> {
    return this.#getOrCreate(
      name,
      Histogram,
      () => new Histogram({ ...config, name, help, labelNames, registers: [this.registry] }),
    );
  }

  /** Prometheus text exposition of everything registered. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #getOrCreate<M extends Metric>(
    name: string,
    kind: abstract new (...args: never[]) => M,
    create: () => M,
  ): M {
    const existing = this.registry.getSingleMetric(name);
    if (existing === undefined) return create();
    if (!(existing instanceof kind)) throw new Error(`metric ${name} already registered as another type`);
    return existing;
  }
}
