import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { dlqTopicOf, Header } from './envelope.ts';

export interface DeadLetterInfo {
  topic: string;
  partition: number;
  offset: string;
  reason: string;
  attempts: number;
  consumerGroup: string;
}

const MAX_REASON = 2_000;

/** The dead letter of a message: same key, value and headers, plus why, how often and where it came from. */
export function deadLetter(message: KafkaMessage, info: DeadLetterInfo): { topic: string; message: Message } {
  return {
    topic: dlqTopicOf(info.topic),
    message: {
      key: message.key,
      value: message.value,
      headers: {
        ...(message.headers ?? {}),
        [Header.dlqReason]: info.reason.slice(0, MAX_REASON),
        [Header.dlqAttempts]: String(info.attempts),
        [Header.dlqTopic]: info.topic,
        [Header.dlqPartition]: String(info.partition),
        [Header.dlqOffset]: info.offset,
        [Header.dlqConsumer]: info.consumerGroup,
        [Header.dlqAt]: new Date().toISOString(),
      },
    },
  };
}

const DLQ_HEADERS: readonly string[] = [
  Header.dlqReason,
  Header.dlqAttempts,
  Header.dlqTopic,
  Header.dlqPartition,
  Header.dlqOffset,
  Header.dlqConsumer,
  Header.dlqAt,
];

/** A dead letter back as the original message, for a replay to the topic it came from. */
export function revive(message: KafkaMessage, dlqTopic: string): { topic: string; message: Message } {
  const headers: IHeaders = {};
  let original: string | undefined;
  for (const [key, value] of Object.entries(message.headers ?? {})) {
    if (key === Header.dlqTopic) original = value?.toString();
    if (!DLQ_HEADERS.includes(key)) headers[key] = value;
  }
  const topic = original ?? dlqTopic.replace(/\.dlq$/, '');
  return { topic, message: { key: message.key, value: message.value, headers } };
}
