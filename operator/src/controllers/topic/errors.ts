/**
 * Two kinds of failure reach a Topic: Kafka as a whole cannot be reached (retriable, says nothing about
 * the Topic), or Kafka answered and refused this one topic (a Kafka protocol error code).
 */

export class KafkaUnavailable extends Error {
  readonly retriable = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaUnavailable';
  }
}

export class TopicRejected extends Error {
  constructor(
    readonly topicName: string,
    /** The Kafka error name, e.g. INVALID_CONFIG, as kafkajs reports it. */
    readonly type: string,
    readonly retriable: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TopicRejected';
  }
}

interface KafkaJsErrorShape {
  readonly name?: string;
  readonly type?: string;
  readonly code?: string | number;
  readonly retriable?: boolean;
  readonly message?: string;
  readonly cause?: unknown;
  readonly errors?: readonly unknown[];
}

const CONNECTIVITY_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

/** Cluster-level protocol errors: the cluster is not (yet) able to serve, whatever the topic. */
const CLUSTER_ERROR_TYPES = new Set([
  'NOT_CONTROLLER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'BROKER_NOT_AVAILABLE',
  'LEADER_NOT_AVAILABLE',
  'CLUSTER_AUTHORIZATION_FAILED',
  'THROTTLING_QUOTA_EXCEEDED',
]);

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

function chain(err: unknown): KafkaJsErrorShape[] {
  const out: KafkaJsErrorShape[] = [];
  let current: unknown = err;
  while (current && typeof current === 'object' && out.length < 10) {
    out.push(current as KafkaJsErrorShape);
    current = (current as KafkaJsErrorShape).cause;
  }
  return out;
}

/** True when the failure means Kafka could not be reached or could not serve at all. */
export function isKafkaUnavailable(err: unknown): boolean {
  return chain(err).some(
    (e) =>
      CONNECTIVITY_ERRORS.has(e.name ?? '') ||
      (e.type !== undefined && CLUSTER_ERROR_TYPES.has(e.type)) ||
      (typeof e.code === 'string' && SOCKET_CODES.has(e.code)),
  );
}

/** The Kafka protocol error inside a kafkajs error (kafkajs wraps it when retries run out). */
export function protocolErrorOf(
  err: unknown,
): { type: string; retriable: boolean; message: string } | undefined {
  for (const e of chain(err)) {
    // KafkaJSProtocolError and its subclasses (KafkaJSCreateTopicError...) carry the Kafka error name and code.
    if (typeof e.type === 'string' && typeof e.code === 'number') {
      return { type: e.type, retriable: e.retriable ?? false, message: e.message ?? e.type };
    }
  }
  return undefined;
}

export function toKafkaUnavailable(err: unknown): KafkaUnavailable {
  const message = err instanceof Error ? err.message : String(err);
  return new KafkaUnavailable(`Kafka is unreachable: ${message}`, { cause: err });
}
