export { type AppOptions, createApp } from './app.ts';
export { backoffDelay, sleep } from './backoff.ts';
export { type BreakerOptions, BreakerState, Breakers } from './circuit-breaker.ts';
export {
  type BaseConfig,
  baseConfig,
  CONFIG_EXIT_CODE,
  ConfigError,
  loadConfig,
  loadConfigOrExit,
} from './config.ts';
export { type KitContext, type KitState, type Middleware, UNMATCHED_ROUTE } from './context.ts';
export { type CheckFunction, type CheckOptions, Health, type Readiness } from './health.ts';
export { HttpClient, type HttpClientOptions, isIdempotent, type RequestOptions } from './http-client.ts';
export { createLogger, type Logger } from './logger.ts';
export { Metrics } from './metrics.ts';
export { type OpenApiInfo, type OpenApiOptions, openApiDocument } from './openapi.ts';
export {
  badRequest,
  conflict,
  type FieldError,
  forbidden,
  methodNotAllowed,
  notFound,
  PROBLEM_CONTENT_TYPE,
  Problem,
  payloadTooLarge,
  serviceUnavailable,
  tooManyRequests,
  unauthorized,
  unprocessable,
  unsupportedMediaType,
} from './problem.ts';
export {
  defineRoute,
  type HttpMethod,
  type Reply,
  type ReplyFn,
  type ResponseSpec,
  type Responses,
  type Route,
  type RouteInput,
  type RouteSpec,
} from './route.ts';
export { createService, type Listening, Service, type ServiceOptions, type StartOptions } from './service.ts';
export { SHUTDOWN_PHASES, Shutdown, type ShutdownPhase } from './shutdown.ts';
export {
  cacheSpan,
  dbSpan,
  extractContext,
  injectContext,
  kafkaConsumeSpan,
  kafkaProduceSpan,
  withSpan,
} from './spans.ts';
export { InMemorySpanExporter, installTracing, type Tracing, tracer } from './tracing.ts';
export {
  CircuitOpenError,
  UpstreamError,
  UpstreamStatusError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from './upstream-error.ts';
