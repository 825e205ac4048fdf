import kafkajs from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isKafkaUnavailable, protocolErrorOf } from '../../../src/controllers/topic/errors.ts';

const {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;
// Thrown by admin.createTopics per topic; kafkajs exports it but does not declare it in its types.
const KafkaJSCreateTopicError = (kafkajs as unknown as Record<string, new (e: Error, topic: string) => Error>)
  .KafkaJSCreateTopicError!;

const protocol = (type: string, code: number, retriable = false) =>
  new KafkaJSProtocolError({ type, code, retriable, message: type.toLowerCase() } as never);

test('connection failures, also wrapped by kafkajs retries, are KafkaUnavailable', () => {
  const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  assert.ok(isKafkaUnavailable(refused));
  assert.ok(
    isKafkaUnavailable(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 1, retryTime: 100 })),
  );
  // How the kafkajs retrier wraps an error it gives up on.
  assert.ok(isKafkaUnavailable(Object.assign(new KafkaJSNonRetriableError(refused), { cause: refused })));
  assert.ok(isKafkaUnavailable(new KafkaJSRequestTimeoutError('Request timed out')));
  assert.ok(isKafkaUnavailable(protocol('NOT_CONTROLLER', 41, true)));
  assert.ok(isKafkaUnavailable(Object.assign(new Error('socket'), { code: 'ECONNRESET' })));
});

test('per-topic protocol errors are not KafkaUnavailable and keep their Kafka error name', () => {
  const invalid = protocol('INVALID_CONFIG', 40);
  assert.not.ok(isKafkaUnavailable(invalid));
  assert.equal(protocolErrorOf(invalid), {
    type: 'INVALID_CONFIG',
    retriable: false,
    message: 'invalid_config',
  });
  const exists = new KafkaJSCreateTopicError(protocol('TOPIC_ALREADY_EXISTS', 36), 'orders.events');
  assert.is(protocolErrorOf(exists)?.type, 'TOPIC_ALREADY_EXISTS');
  const wrapped = new KafkaJSNumberOfRetriesExceeded(protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true), {
    retryCount: 0,
    retryTime: 1,
  });
  assert.not.ok(isKafkaUnavailable(wrapped));
  assert.is(protocolErrorOf(wrapped)?.type, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.is(protocolErrorOf(new Error('plain')), undefined);
});

test.run();
