import { context, ProxyTracerProvider, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
export { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  service: string;
  version?: string;
  /** OTLP/HTTP base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<endpoint>/v1/traces`. */
  endpoint?: string | undefined;
  /** Exports every span synchronously to this exporter; tests pass an InMemorySpanExporter. */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** False when no endpoint and no exporter were given: spans are then non-recording. */
  readonly recording: boolean;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * Installs the context manager and the W3C propagators always (so a trace id passes through a
 * service even when it records nothing), and the SDK only when there is somewhere to send spans.
 * Once per process: the OpenTelemetry globals cannot be swapped afterwards; a later call that
 * asks for nothing new gets the installed tracing back.
 */
export function installTracing(options: TracingOptions): Tracing {
  if (installed && !options.endpoint && !options.exporter) return installed;
  if (installed) throw new Error('tracing is already installed in this process');
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const propagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  const processors: SpanProcessor[] = [];
  if (options.endpoint) {
    const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url }) as unknown as SpanExporter));
  }
  if (options.exporter) processors.push(new SimpleSpanProcessor(options.exporter));
  if (processors.length === 0) {
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(propagator);
    installed = { recording: false, flush: async () => {}, shutdown: async () => {} };
    return installed;
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.service,
      ...(options.version ? { 'service.version': options.version } : {}),
    }),
    spanProcessors: processors,
  });
  provider.register({ contextManager, propagator });
  installed = {
    recording: true,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return installed;
}

/** What the global provider hands out while no tracer provider is registered. */
const NO_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether spans can record: a tracer provider is registered, the kit's or one the process set up
 * itself. Otherwise spans only carry a caller's context.
 */
export function tracingRecords(): boolean {
  const provider = trace.getTracerProvider();
  return (provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider) !== NO_PROVIDER;
}

/** The tracer every part of the kit uses. */
export function tracer() {
  return trace.getTracer('@souk/kit');
}
